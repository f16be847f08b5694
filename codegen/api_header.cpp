// <name>.h: the C API of an emitted model.
#include "codegen/cpp_emitter.h"

#include <fmt/format.h>

#include "codegen/emit_context.h"

namespace bitgpt {

using namespace ir;

namespace {

class ApiHeader : public EmitContext {
 public:
  ApiHeader(const CompiledModel& c, const Provenance& origin, const ObjectSections* sections) : EmitContext(c, origin), sections_(sections) {}

  // Where a part goes: the object's section, or the macro that places it in C++.
  std::string where(const std::string ObjectSections::*section, const char* macro) const {
    if (c_.caller_memory) return "in the buffer given to " + n_ + "_init";
    return sections_ ? "section " + sections_->*section : macro;
  }

  // How the user places the RAM: section macros for the static arrays, the object's
  // sections, or one buffer.
  std::string placement() const {
    if (sections_ && !c_.caller_memory)
      return fmt::format("/* {0}.o puts each RAM part in a section of its own: the arena in {1}, the KV cache\n"
                         " * in {2}, the state in {3}; the constants in {4}. Map them in your linker\n"
                         " * script to place them (.bss.* sections are zero-filled, need no flash). */\n",
                         n_, sections_->arena, sections_->kv, sections_->state, sections_->weights);
    if (!c_.caller_memory)
      return "/* Each RAM part is a static array of the model; define BITGPT_ARENA_SECTION,\n"
             " * BITGPT_KV_SECTION or BITGPT_STATE_SECTION (e.g. __attribute__((section(\".dtcm_bss\"))))\n"
             " * when compiling " + n_ + ".cpp to place it in a memory of your own. */\n";
    return fmt::format(R"(/* The RAM parts above (all but the stack) live in one buffer of yours, given once before
 * any other call: {0}_RAM_BYTES, aligned to {0}_RAM_ALIGNMENT. The model keeps only a
 * pointer to it (included in {0}_STATE_BYTES). Returns 0, or -1 when memory is null,
 * misaligned or smaller than {0}_RAM_BYTES. Resets the model. */
#define {0}_RAM_BYTES {1}
#define {0}_RAM_ALIGNMENT 8
int {0}_init(void *memory, uint32_t bytes);
)",
                       n_, caller_layout().total);
  }

  // What the model needs of memory, part by part, and where a user can place each part.
  std::string memory_contract() const {
    const SramCost& m = c_.fit.cost;
    return fmt::format(R"(
/* ---- the memory contract (bitgptc's plan for {0}, --sram {1}) ---- */
#define {2}_ARENA_BYTES {3}        /* activations, placed by liveness; {14} */
#define {2}_KV_CACHE_BYTES {4}     /* {5} layers x {6} slots, {7}-bit codes + scales; {15} */
#define {2}_PROMPT_BUFFER_BYTES {8} /* BPE encodes a prompt here; {16} */
#define {2}_STATE_BYTES {9}         /* position, sampler, checksum; {16} */
#define {2}_STACK_RESERVE_BYTES {10} /* the deepest call path of the API on {0}, bounded */
#define {2}_ARENA_ALIGNMENT 8      /* the arena's; the other parts need their elements' (2 to 8 bytes) */
#define {2}_WEIGHTS_BYTES {11}     /* every constant in flash ({17}) */
#define {2}_FLASH_ESTIMATE_BYTES {12} /* the constants + the code, an upper estimate */
{13})",
                       c_.target->name, c_.sram_budget, n_, std::max<int64_t>(c_.arena.bytes, 8), m.kv_cache, g_.arch.n_layers, g_.window,
                       g_.kv_bits, m.prompt, m.state, m.stack, c_.weights_flash_bytes(), c_.flash_total(), placement(),
                       where(&ObjectSections::arena, "BITGPT_ARENA_SECTION"), where(&ObjectSections::kv, "BITGPT_KV_SECTION"),
                       where(&ObjectSections::state, "BITGPT_STATE_SECTION"),
                       sections_ ? "section " + sections_->weights : std::string(".rodata.bitgpt; BITGPT_FLASH"));
  }

  std::string header() const {
    const std::string guard = c_ident(n_) + "_H";
    std::string s = banner(n_ + ".h: the C API", false);
    if (!origin_.command_line.empty()) {
      std::string line = origin_.command_line;
      for (size_t at = line.find("*/"); at != std::string::npos; at = line.find("*/", at)) line.replace(at, 2, "* /");  // stays a comment
      s += fmt::format("/* compiled with: {} */\n", line);
    }
    s += fmt::format(R"(#ifndef {0}
#define {0}

#include <stdint.h>

#ifdef __cplusplus
extern "C" {{
#endif

#define {1}_VOCAB_SIZE {2}
#define {1}_BOS {3}
#define {1}_WINDOW {4}      /* attention window: the last {4} tokens */
#define {1}_MAX_POSITIONS {5} /* 0: unlimited (rotary positions) */
#define {1}_SRAM_BYTES {6}  /* arena + KV cache + prompt buffer + state + stack reserve */
#define {1}_MAX_PROMPT_BYTES {7} /* the longest text {1}_feed_text takes; 0: any length */
{12}

/* Forgets all tokens, seeds the sampler and zeroes the logits checksum. */
void {1}_reset(uint64_t seed);

/* Runs the model on one token at the next position. Returns 0, -1 for a token outside
 * the vocabulary, or -2 when a learned-position model has used all its positions. */
int {1}_feed(int32_t token);

/* Computes the logits of the current position, hashes them into the checksum and returns
 * the next token: greedy when temperature_q16 is 0, else sampled at that temperature
 * (Q16.16: 65536 = 1.0). Does not feed the token. */
int32_t {1}_next(int32_t temperature_q16);

/* FNV-1a 64 over the little-endian bytes of every logit (int32 Q16) computed since reset. */
uint64_t {1}_logits_checksum(void);

/* The bytes of a token (not NUL-terminated); *len receives their count. */
const char *{1}_token_text(int32_t token, int32_t *len);

/* The text to print for token when it follows prev (the token before it): the token's
 * bytes, less the leading space {8}. */
const char *{1}_decode(int32_t prev, int32_t token, int32_t *len);

/* Encodes n bytes of text ({9}) into tokens[0..max_tokens) and returns the token count,
 * or a negative error: -1 no token covers the byte at *bad_offset, -3 max_tokens is too
 * small{10}. */
int32_t {1}_encode(const char *text, int32_t n, int32_t *tokens, int32_t max_tokens, int32_t *bad_offset);

/* Encodes n bytes of text and feeds the tokens, with no buffer of the caller's{11}. Returns
 * the count fed, or -1 no token covers the byte at *bad_offset, -2 a learned-position
 * model used all its positions, -3 the text is longer than {1}_MAX_PROMPT_BYTES. */
int32_t {1}_feed_text(const char *text, int32_t n, int32_t *bad_offset);

/* "0.8" -> Q16.16, without floating point; -1 when malformed. */
int32_t {1}_parse_temperature(const char *text);

/* Where this model's code came from: bitgptc's version and the FNV-1a 64 hash of the
 * model's files, e.g. for a firmware's version report. */
const char *{1}_provenance(void);

#ifdef __cplusplus
}}
#endif

#endif /* {0} */
)",
                     guard, n_, g_.arch.vocab_size, g_.tokenizer.bos, g_.window,
                     g_.constants.has_pos_embeddings ? g_.arch.max_seq_len : 0, c_.fit.cost.total(), c_.max_prompt_bytes,
                     bpe() ? "of the first token after BOS (sentencepiece's dummy prefix)" : "(none: this model's table tokenizer has no dummy prefix)",
                     bpe() ? "sentencepiece BPE, as llama2.c encodes: a space first, then merges" : "greedy longest match over the token table",
                     bpe() ? "; BPE needs n + 1 while it merges" : "",
                     bpe() ? ": BPE works in the planned prompt buffer" : ": the table tokenizer streams", memory_contract());
    return s;
  }


 private:
  const ObjectSections* sections_;
};

}  // namespace

std::string emit_api_header(const CompiledModel& c, const Provenance& origin, const ObjectSections* sections) {
  return ApiHeader(c, origin, sections).header();
}

}  // namespace bitgpt
