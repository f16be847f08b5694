#include "codegen/emit_context.h"

namespace bitgpt {

using namespace ir;

std::string c_ident(const std::string& s) {
  std::string r;
  for (char ch : s) r += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
  return r;
}

const char* type_comment(ValueType t) {
  switch (t) {
    case ValueType::Act: return "int32 Q16";
    case ValueType::Q8: return "amax + int8 codes";
    case ValueType::Scores: return "int32 scores";
    case ValueType::HeadScores: return "int32 scores of one head";
    case ValueType::Codes: return "int8 codes";
    case ValueType::Acc64: return "int64 accumulators";
    case ValueType::Lut16: return "int16 lookup tables";
    case ValueType::Pairs16: return "int8 codes as int16 pairs";
  }
  return "";
}

std::string mult_array(const std::vector<bg_mult>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i % 6 == 0) s += "\n  ";
    s += fmt::format("{{{}, {}}},", v[i].m, v[i].shift);
  }
  return s + "\n";
}

}  // namespace bitgpt
