// Worst-case stack depth from GCC's -fcallgraph-info=su output (.ci files): the
// largest sum of static frame sizes along any call path from an entry function.
// Fails on dynamic frames (alloca, VLAs), on recursion, and on indirect calls, any of
// which would make the bound meaningless. libgcc helpers (__aeabi_*) carry no frame
// information; each is charged kLibgccFrame bytes.
//   stack_bound ENTRY file.ci...   prints the bound in bytes
#include <cctype>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace {

constexpr long kLibgccFrame = 128;

struct Node {
  long bytes = -1;  // -1: no information (an external helper)
  bool dynamic = false;
  std::vector<std::string> callees;
};

// Titles are "file.cpp:function"; calls into another file name the function alone.
std::string function_of(const std::string& title) {
  const auto colon = title.rfind(':');
  return colon == std::string::npos ? title : title.substr(colon + 1);
}

// The text between `key` (which ends in a quote) and the next quote, or none.
std::optional<std::string> quoted(const std::string& line, const std::string& key) {
  const size_t at = line.find(key);
  if (at == std::string::npos) return std::nullopt;
  const size_t begin = at + key.size(), end = line.find('"', begin);
  if (end == std::string::npos) return std::nullopt;
  return line.substr(begin, end - begin);
}

// A node's frame from its label, "...\nN bytes (static)" or "(dynamic...)": bytes and
// whether it is dynamic, or none.
std::optional<std::pair<long, bool>> frame_of(const std::string& label) {
  const size_t nl = label.rfind("\\n");
  if (nl == std::string::npos) return std::nullopt;
  size_t i = nl + 2, digits = 0;
  while (i + digits < label.size() && std::isdigit(static_cast<unsigned char>(label[i + digits]))) ++digits;
  if (digits == 0 || label.compare(i + digits, 8, " bytes (") != 0) return std::nullopt;
  const std::string kind = label.substr(i + digits + 8);
  if (kind.rfind("static", 0) != 0 && kind.rfind("dynamic", 0) != 0) return std::nullopt;
  return std::make_pair(std::stol(label.substr(i, digits)), kind.rfind("static", 0) != 0);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: stack_bound ENTRY file.ci...\n";
    return 2;
  }
  const std::string entry = argv[1];
  std::map<std::string, Node> graph;  // by function name
  for (int i = 2; i < argc; ++i) {
    std::ifstream in(argv[i]);
    if (!in) {
      std::cerr << argv[i] << ": cannot read\n";
      return 1;
    }
    std::string line;
    while (std::getline(in, line)) {
      if (line.find("node: { title: \"") != std::string::npos) {
        const auto title = quoted(line, "title: \"");
        if (!title || title->empty()) continue;
        Node& n = graph[function_of(*title)];
        const auto label = quoted(line, "label: \"");
        if (const auto frame = label ? frame_of(*label) : std::nullopt) {
          n.bytes = frame->first;
          n.dynamic = frame->second;
        }
      } else if (line.find("edge: { sourcename: \"") != std::string::npos) {
        const auto from = quoted(line, "sourcename: \""), to = quoted(line, "targetname: \"");
        if (from && to) graph[function_of(*from)].callees.push_back(function_of(*to));
      }
    }
  }
  if (!graph.count(entry)) {
    std::cerr << "stack_bound: no function '" << entry << "' in the call graphs\n";
    return 1;
  }
  std::map<std::string, long> memo;
  std::set<std::string> active;
  std::string problem;
  std::function<long(const std::string&)> depth = [&](const std::string& f) -> long {
    if (auto it = memo.find(f); it != memo.end()) return it->second;
    if (active.count(f)) {
      problem = "recursion through " + f;
      return 0;
    }
    const Node& n = graph[f];
    if (n.dynamic) problem = f + " has a dynamic stack frame";
    if (n.bytes < 0 && f.rfind("__aeabi_", 0) != 0 && f.rfind("__", 0) != 0 && f != "memcpy" && f != "memset")
      problem = "no frame information for " + f + " (an indirect or external call?)";
    active.insert(f);
    long deepest = 0;
    for (const std::string& c : n.callees) deepest = std::max(deepest, depth(c));
    active.erase(f);
    return memo[f] = (n.bytes < 0 ? kLibgccFrame : n.bytes) + deepest;
  };
  const long bound = depth(entry);
  if (!problem.empty()) {
    std::cerr << "stack_bound: " << problem << "\n";
    return 1;
  }
  std::cout << bound << "\n";
  return 0;
}
