#include "codegen/object/model_module.h"

#include <fmt/format.h>
#include <llvm/Bitcode/BitcodeReader.h>
#include <llvm/IR/Constants.h>
#include <llvm/IR/DataLayout.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/Support/Error.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Transforms/Utils/ModuleUtils.h>

#include <functional>
#include <map>
#include <optional>

#include "codegen/emit_context.h"
#include "codegen/object/kernel_bitcode.h"
#include "codegen/object/kernel_builds.h"
#include "ir/vocab.h"
#include "support/diagnostics.h"

namespace bitgpt {

using namespace ir;
using llvm::ArrayRef;
using llvm::Constant;
using llvm::ConstantExpr;
using llvm::ConstantInt;
using llvm::Function;
using llvm::GlobalVariable;
using llvm::StructType;
using llvm::Type;

namespace {

const char* const kApiFunctions[] = {"reset",  "feed",   "next",      "logits_checksum",   "token_text", "decode",
                                     "encode", "feed_text", "parse_temperature", "provenance"};

class ModuleBuilder {
 public:
  ModuleBuilder(llvm::LLVMContext& context, const CompiledModel& c, const Provenance& origin, const ObjectSections& sections)
      : ctx_(context), c_(c), g_(c.graph), n_(c.graph.name), origin_(origin), sections_(sections) {}

  std::unique_ptr<llvm::Module> build() {
    load_kernels();
    make_types();
    check_struct_layout();
    make_constants();
    make_ram();
    loop_ = usable_layer_loop();
    for (size_t i = 0; i < c_.steps.size(); ++i) steps_.push_back(in_loop(static_cast<int>(i)) ? nullptr : make_step(static_cast<int>(i)));
    if (loop_) make_layer_loop();
    make_api();
    return std::move(m_);
  }

 private:
  llvm::LLVMContext& ctx_;
  const CompiledModel& c_;
  const Graph& g_;
  std::string n_;
  const Provenance& origin_;
  const ObjectSections& sections_;
  std::unique_ptr<llvm::Module> m_;
  Function* attributes_from_ = nullptr;  // a kernel: its target CPU and features go on every function built here

  Type *i8_ = nullptr, *i16_ = nullptr, *i32_ = nullptr, *i64_ = nullptr, *ptr_ = nullptr;
  // The runtime's structs (bitgpt_ops.h, bitgpt_tokenizer.h) and the emitted state_t.
  StructType *matrix_t_ = nullptr, *table_t_ = nullptr, *norm_t_ = nullptr, *kv_t_ = nullptr, *attn_t_ = nullptr, *vocab_t_ = nullptr,
             *state_t_ = nullptr, *mult_t_ = nullptr;

  std::vector<GlobalVariable*> matrices_, norms_;
  GlobalVariable *tok_ = nullptr, *pos_ = nullptr, *rope_freq_ = nullptr, *vocab_ = nullptr, *attn_ = nullptr;
  GlobalVariable *arena_ = nullptr, *kv_ = nullptr, *state_ = nullptr, *prompt_ = nullptr;
  // --memory caller: the pointer to the caller's buffer (the model's only static RAM), the
  // parts' offsets in it, and within the function being built, the buffer as loaded.
  GlobalVariable* ram_ = nullptr;
  CallerLayout layout_;
  llvm::Value* ram_base_ = nullptr;
  std::vector<GlobalVariable*> kv_arrays_;  // k, v, k_scale, v_scale: what reset clears
  std::vector<Function*> steps_;  // null for the steps run_layer runs

  // ---- the layer loop (passes/program.h, LayerLoop): one run_layer over a table of the
  // layers' weights, norms and KV caches, when every layer has the same plan (as fast as
  // a function per layer step, and 2.7 KB less flash on the shipped example) ----
  std::optional<LayerLoop> loop_;
  StructType* layer_t_ = nullptr;              // one pointer per field
  std::map<std::pair<int, int>, unsigned> fields_;  // (layer step, 0: matrix, 1: matrix2, 2: norm, 3: KV, 4: matrix3) -> field
  GlobalVariable* layers_ = nullptr;
  Function* run_layer_ = nullptr;
  llvm::Value* layer_row_ = nullptr;  // within a layer step: its row of the table
  int layer_slot_ = -1;

  // ---- the kernels ----
  void load_kernels() {
    const std::string key = kernel_build_key(*c_.target, c_.row_kernel);
    const std::string_view bitcode = kernel_bitcode(key);
    if (bitcode.empty())
      throw Error(fmt::format("--emit obj: this bitgptc carries no kernels for target {} with the {} row kernel (build {})", c_.target->name,
                              kernel_name(c_.row_kernel), key));
    auto buffer = llvm::MemoryBuffer::getMemBuffer(llvm::StringRef(bitcode.data(), bitcode.size()), key, false);
    llvm::Expected<std::unique_ptr<llvm::Module>> m = llvm::parseBitcodeFile(buffer->getMemBufferRef(), ctx_);
    if (!m) throw Error(fmt::format("internal error: the kernels' bitcode {} does not load: {}", key, llvm::toString(m.takeError())));
    m_ = std::move(*m);
    m_->setModuleIdentifier(n_);
    m_->setSourceFileName(origin_.source);
    attributes_from_ = kernel("bgk_add");
  }

  Function* kernel(const char* name) const {
    Function* f = m_->getFunction(name);
    if (!f) throw Error(fmt::format("internal error: the kernels' bitcode has no {}", name));
    return f;
  }

  void make_types() {
    i8_ = Type::getInt8Ty(ctx_);
    i16_ = Type::getInt16Ty(ctx_);
    i32_ = Type::getInt32Ty(ctx_);
    i64_ = Type::getInt64Ty(ctx_);
    ptr_ = llvm::PointerType::get(ctx_, 0);
    mult_t_ = StructType::get(ctx_, {i32_, i32_});
    matrix_t_ = StructType::get(ctx_, {ptr_, ptr_, i32_, i32_, i32_, i32_, i32_});
    table_t_ = StructType::get(ctx_, {ptr_, ptr_, i32_, i32_});
    norm_t_ = StructType::get(ctx_, {i32_, i32_, ptr_, ptr_, i64_, i32_});
    kv_t_ = StructType::get(ctx_, {ptr_, ptr_, ptr_, ptr_});
    attn_t_ = StructType::get(ctx_, {i32_, i32_, i32_, i32_, i32_, mult_t_});
    vocab_t_ = StructType::get(ctx_, {ptr_, ptr_, i32_, ptr_, i32_, ptr_, ptr_, i32_, i32_});
    state_t_ = StructType::get(ctx_, {i32_, i32_, i64_, i64_});  // position, token, rng, checksum
  }

  // The types above against the sizes and offsets the kernels were compiled with.
  void check_struct_layout() const {
    const GlobalVariable* g = m_->getGlobalVariable("bgk_struct_layout");
    const auto* table = g && g->hasInitializer() ? llvm::dyn_cast<llvm::ConstantDataArray>(g->getInitializer()) : nullptr;
    if (!table) throw Error("internal error: the kernels' bitcode has no bgk_struct_layout");
    const llvm::DataLayout& dl = m_->getDataLayout();
    std::vector<uint64_t> expected;
    for (StructType* t : {mult_t_, matrix_t_, table_t_, norm_t_, kv_t_, attn_t_, vocab_t_}) {
      const llvm::StructLayout* layout = dl.getStructLayout(t);
      expected.push_back(layout->getSizeInBytes());
      for (unsigned i = 0; i < t->getNumElements(); ++i) expected.push_back(layout->getElementOffset(i));
    }
    bool same = table->getNumElements() == expected.size();
    for (size_t i = 0; same && i < expected.size(); ++i) same = table->getElementAsInteger(static_cast<unsigned>(i)) == expected[i];
    if (!same) throw Error("internal error: the runtime's structs are not laid out as the object backend builds them (codegen/object/kernels.cpp)");
    if (dl.getTypeAllocSize(state_t_) != static_cast<uint64_t>(kRuntimeStateBytes))
      throw Error(fmt::format("internal error: state_t is {} bytes, the SRAM plan counts {}", dl.getTypeAllocSize(state_t_).getFixedValue(), kRuntimeStateBytes));
  }

  // ---- constants in flash ----
  Constant* i32c(int64_t v) const { return ConstantInt::get(i32_, static_cast<uint64_t>(v), true); }
  Constant* i64c(int64_t v) const { return ConstantInt::get(i64_, static_cast<uint64_t>(v), true); }

  GlobalVariable* global(const std::string& name, Constant* init, bool constant, const std::string& section, unsigned align) {
    auto* g = new GlobalVariable(*m_, init->getType(), constant, llvm::GlobalValue::InternalLinkage, init, name);
    if (!section.empty()) g->setSection(section);
    g->setAlignment(llvm::Align(align));
    return g;
  }
  template <typename T>
  GlobalVariable* flash_array(const std::string& name, const std::vector<T>& v, unsigned align = alignof(T)) {
    using Raw = std::make_unsigned_t<T>;
    const ArrayRef<Raw> raw(reinterpret_cast<const Raw*>(v.data()), v.size());
    return global(name, llvm::ConstantDataArray::get(ctx_, raw), true, sections_.weights, align);
  }
  GlobalVariable* flash_mults(const std::string& name, const std::vector<bg_mult>& v) {
    std::vector<uint32_t> flat;
    for (const bg_mult& m : v) flat.insert(flat.end(), {static_cast<uint32_t>(m.m), static_cast<uint32_t>(m.shift)});
    return flash_array(name, flat, 4);
  }
  GlobalVariable* descriptor(const std::string& name, StructType* t, std::vector<Constant*> fields) {
    return global(name, llvm::ConstantStruct::get(t, fields), true, sections_.weights, 8);
  }
  Constant* null() const { return llvm::ConstantPointerNull::get(llvm::PointerType::get(ctx_, 0)); }

  GlobalVariable* table(const LoweredTable& t, const std::string& sym, GlobalVariable** data) {
    *data = flash_array(sym + "_data", t.data, static_cast<unsigned>(c_.target->weight_align));
    return descriptor(sym, table_t_, {*data, flash_mults(sym + "_mult", t.row_mult), i32c(t.rows), i32c(t.cols)});
  }

  void make_constants() {
    const Constants& k = g_.constants;
    GlobalVariable* tok_data = nullptr;
    GlobalVariable* pos_data = nullptr;
    tok_ = table(k.tok_embeddings, n_ + "_tok_embeddings", &tok_data);
    if (k.has_pos_embeddings) pos_ = table(k.pos_embeddings, n_ + "_pos_embeddings", &pos_data);
    for (size_t i = 0; i < k.matrices.size(); ++i) {
      const LoweredMatrix& m = c_.matrices[i].data;
      const std::string sym = n_ + "_w_" + c_ident(m.name);
      Constant* data = c_.matrices[i].tied_to_embedding ? static_cast<Constant*>(tok_data) : flash_array(sym + "_data", m.data, static_cast<unsigned>(c_.target->weight_align));
      matrices_.push_back(descriptor(sym, matrix_t_, {data, flash_mults(sym + "_scales", m.scales), i32c(m.rows), i32c(m.cols),
                                                       i32c(m.row_bytes), i32c(m.dtype), i32c(m.per_row ? 1 : 0)}));
    }
    for (const LoweredNorm& nm : k.norms) {
      const std::string sym = n_ + "_norm_" + c_ident(nm.name);
      Constant* gain = nm.gain.empty() ? null() : flash_array(sym + "_gain", nm.gain);
      Constant* bias = nm.bias.empty() ? null() : flash_array(sym + "_bias", nm.bias);
      norms_.push_back(descriptor(sym, norm_t_, {i32c(nm.kind), i32c(nm.n), gain, bias, i64c(nm.eps_q32), i32c(nm.view().gain_max)}));
    }
    if (!k.rope_freq_q40.empty()) rope_freq_ = flash_array(n_ + "_rope_freq", k.rope_freq_q40);
    const LoweredVocab v = lower_vocab(g_.tokenizer);
    std::vector<uint8_t> bytes = v.bytes;
    if (bytes.empty()) bytes.push_back(0);
    Constant* sorted = v.bpe ? flash_array(n_ + "_vocab_sorted", v.sorted) : null();
    Constant* rank = v.bpe ? flash_array(n_ + "_vocab_rank", v.merge_rank) : null();
    Constant* byte_token = v.bpe ? flash_array(n_ + "_vocab_byte_token", v.byte_token) : null();
    vocab_ = descriptor(n_ + "_vocab", vocab_t_,
                        {flash_array(n_ + "_vocab_bytes", bytes), flash_array(n_ + "_vocab_offsets", v.offsets),
                         i32c(static_cast<int64_t>(v.offsets.size()) - 1), sorted, i32c(v.bpe ? static_cast<int64_t>(v.sorted.size()) : 0), rank,
                         byte_token, i32c(v.bpe ? v.dummy_prefix : -1), i32c(v.bos)});
    const bg_attn_shape a = g_.attn_shape();
    attn_ = descriptor("attn", attn_t_, {i32c(a.n_heads), i32c(a.n_kv_heads), i32c(a.head_dim), i32c(a.window), i32c(a.kv_bits),
                                         llvm::ConstantStruct::get(mult_t_, {i32c(a.score_mult.m), i32c(a.score_mult.shift)})});
  }

  // ---- RAM: every byte as the plan counts it ----
  GlobalVariable* ram(const std::string& name, Type* t, const std::string& section, unsigned align) {
    return global(name, llvm::Constant::getNullValue(t), false, section, align);
  }

  void make_ram() {
    if (c_.caller_memory) {
      layout_ = EmitContext(c_, origin_).caller_layout();
      ram_ = ram("ram", ptr_, sections_.state, 8);
      llvm::appendToCompilerUsed(*m_, {ram_});
      return;
    }
    arena_ = ram("arena", llvm::ArrayType::get(i8_, static_cast<uint64_t>(std::max<int64_t>(c_.arena.bytes, 8))), sections_.arena, 8);
    const bg_attn_shape a = g_.attn_shape();
    const auto layers = static_cast<uint64_t>(g_.arch.n_layers);
    const auto slots = static_cast<uint64_t>(g_.window * g_.arch.n_kv_heads);
    const auto codes = slots * static_cast<uint64_t>(bg_kv_row_bytes(&a));
    Type* codes_t = llvm::ArrayType::get(llvm::ArrayType::get(i8_, codes), layers);
    Type* scales_t = llvm::ArrayType::get(llvm::ArrayType::get(i16_, slots), layers);
    kv_arrays_ = {ram("kv_k", codes_t, sections_.kv, 4), ram("kv_v", codes_t, sections_.kv, 4), ram("kv_k_scale", scales_t, sections_.kv, 2),
                  ram("kv_v_scale", scales_t, sections_.kv, 2)};
    std::vector<Constant*> per_layer;
    for (uint64_t l = 0; l < layers; ++l) {
      std::vector<Constant*> parts;
      for (GlobalVariable* array : kv_arrays_) parts.push_back(element(array, l));
      per_layer.push_back(llvm::ConstantStruct::get(kv_t_, parts));
    }
    kv_ = global("kv", llvm::ConstantArray::get(llvm::ArrayType::get(kv_t_, layers), per_layer), true, "", 8);
    state_ = ram("st", state_t_, sections_.state, 8);
    if (g_.tokenizer.kind == TokenizerKind::Bpe)  // BPE merges a whole prompt in place: one token per byte plus the dummy prefix
      prompt_ = ram("prompt_tokens", llvm::ArrayType::get(i32_, static_cast<uint64_t>(c_.max_prompt_bytes + 1)), sections_.state, 4);
    // Kept whole, as planned: the optimiser would otherwise split state_t into four
    // globals, each aligned as the struct is (32 bytes instead of 24).
    std::vector<llvm::GlobalValue*> planned = {arena_, state_};
    planned.insert(planned.end(), kv_arrays_.begin(), kv_arrays_.end());
    if (prompt_) planned.push_back(prompt_);
    llvm::appendToCompilerUsed(*m_, planned);
  }

  // &array[index] of a global array (of arrays or structs).
  Constant* element(GlobalVariable* array, uint64_t index) const {
    return ConstantExpr::getInBoundsGetElementPtr(array->getValueType(), array, ArrayRef<Constant*>{i32c(0), i32c(static_cast<int64_t>(index))});
  }
  // ---- addressing the RAM: static globals, or offsets in the caller's buffer ----
  // Called first in every function that touches RAM: loads the caller's buffer pointer.
  void enter(llvm::IRBuilder<>& b) { ram_base_ = c_.caller_memory ? b.CreateLoad(ptr_, ram_, "ram") : nullptr; }
  llvm::Value* in_ram(llvm::IRBuilder<>& b, int64_t offset) const { return b.CreateInBoundsGEP(i8_, ram_base_, i32c(offset)); }
  llvm::Value* arena_at(llvm::IRBuilder<>& b, int64_t offset) const {
    return c_.caller_memory ? in_ram(b, offset) : ConstantExpr::getInBoundsGetElementPtr(i8_, arena_, ArrayRef<Constant*>{i32c(offset)});
  }
  // position, token, rng, checksum
  llvm::Value* state_field(llvm::IRBuilder<>& b, int field) const {
    if (!c_.caller_memory) return element(state_, static_cast<uint64_t>(field));
    const uint64_t at = m_->getDataLayout().getStructLayout(state_t_)->getElementOffset(static_cast<unsigned>(field));
    return in_ram(b, layout_.state + static_cast<int64_t>(at));
  }
  // Layer l's bg_kv_layer: the constant table's row, or built on the stack from the buffer.
  llvm::Value* kv_layer(llvm::IRBuilder<>& b, int layer) const {
    if (!c_.caller_memory) return element(kv_, static_cast<uint64_t>(layer));
    const bg_attn_shape a = g_.attn_shape();
    const int64_t slots = g_.window * g_.arch.n_kv_heads, codes = slots * bg_kv_row_bytes(&a);
    llvm::IRBuilder<> entry(&b.GetInsertBlock()->getParent()->getEntryBlock(), b.GetInsertBlock()->getParent()->getEntryBlock().begin());
    llvm::Value* cache = entry.CreateAlloca(kv_t_, nullptr, "cache");
    const int64_t parts[4] = {layout_.k + layer * codes, layout_.v + layer * codes, layout_.k_scale + layer * slots * 2, layout_.v_scale + layer * slots * 2};
    for (unsigned i = 0; i < 4; ++i) b.CreateStore(in_ram(b, parts[i]), b.CreateStructGEP(kv_t_, cache, i));
    return cache;
  }
  llvm::Value* prompt_buffer(llvm::IRBuilder<>& b) const {
    if (g_.tokenizer.kind != TokenizerKind::Bpe) return null();
    return c_.caller_memory ? in_ram(b, layout_.prompt) : static_cast<llvm::Value*>(prompt_);
  }

  // ---- functions ----
  Function* function(const std::string& name, Type* result, std::vector<Type*> params, bool external) {
    Function* f = Function::Create(llvm::FunctionType::get(result, params, false),
                                   external ? llvm::GlobalValue::ExternalLinkage : llvm::GlobalValue::InternalLinkage, name, *m_);
    for (const char* attribute : {"target-cpu", "target-features"})
      if (attributes_from_->hasFnAttribute(attribute)) f->addFnAttr(attributes_from_->getFnAttribute(attribute));
    f->addFnAttr(llvm::Attribute::NoUnwind);
    llvm::BasicBlock::Create(ctx_, "entry", f);
    return f;
  }

  // One step: a function of its own (as in the C++ backend: inlined into one another, the
  // kernels' frames would add up instead of taking turns), calling its kernel.
  Function* make_step(int index) {
    const Step& s = c_.steps[static_cast<size_t>(index)];
    const Op& op = g_.ops[s.op];
    const bool returns = op.chooses_token();
    Function* f = function(fmt::format("step_{:03}_{}", index, c_ident(op.label)), returns ? i32_ : Type::getVoidTy(ctx_),
                           returns ? std::vector<Type*>{i32_} : std::vector<Type*>{}, false);
    f->addFnAttr(llvm::Attribute::NoInline);
    llvm::IRBuilder<> b(&f->getEntryBlock());
    enter(b);
    llvm::Value* result = call_kernel(b, s, op, returns ? f->getArg(0) : nullptr);
    if (returns) b.CreateRet(result);
    else b.CreateRetVoid();
    return f;
  }

  // The layer loop the program found, when the object can use it: static memory (the
  // caller's buffer would need the KV cache addressed by layer number) and the loop in the
  // feed stage.
  std::optional<LayerLoop> usable_layer_loop() const {
    const std::optional<LayerLoop>& l = c_.layer_loop;
    if (!l || c_.caller_memory || l->begin + l->layers * l->steps_per_layer > g_.next_stage_begin) return std::nullopt;
    return l;
  }
  bool in_loop(int step) const { return loop_ && step >= loop_->begin && step < loop_->begin + loop_->layers * loop_->steps_per_layer; }
  const Op& layer_op(int layer, int slot) const { return g_.ops[c_.steps[static_cast<size_t>(loop_->begin + layer * loop_->steps_per_layer + slot)].op]; }
  static int entry(const Op& op, int which) {
    return which == 0 ? op.matrix : which == 1 ? op.matrix2 : which == 2 ? op.norm : which == 3 ? op.layer : op.matrix3;
  }

  void make_layer_loop() {
    const LayerLoop& loop = *loop_;
    for (int j = 0; j < loop.steps_per_layer; ++j)
      for (int which = 0; which < 5; ++which) {
        const Op& op = layer_op(0, j);
        const bool kv = op.kind == OpKind::KvWrite || op.kind == OpKind::AttnScores || op.kind == OpKind::AttnWeightedSum || op.kind == OpKind::Attention;
        if (which == 3 ? kv : entry(op, which) >= 0) fields_[{j, which}] = static_cast<unsigned>(fields_.size());
      }
    layer_t_ = StructType::get(ctx_, std::vector<Type*>(fields_.size(), ptr_));
    std::vector<Constant*> rows;
    for (int l = 0; l < loop.layers; ++l) {
      std::vector<Constant*> row(fields_.size());
      for (const auto& [key, field] : fields_) {
        const Op& op = layer_op(l, key.first);
        const int e = entry(op, key.second);
        row[field] = key.second < 2 || key.second == 4 ? static_cast<Constant*>(matrices_[static_cast<size_t>(e)])
                     : key.second == 2 ? static_cast<Constant*>(norms_[static_cast<size_t>(e)])
                                       : element(kv_, static_cast<uint64_t>(e));
      }
      rows.push_back(llvm::ConstantStruct::get(layer_t_, row));
    }
    layers_ = global("layers", llvm::ConstantArray::get(llvm::ArrayType::get(layer_t_, static_cast<uint64_t>(loop.layers)), rows), true, sections_.weights, 8);
    run_layer_ = function("run_layer", Type::getVoidTy(ctx_), {ptr_}, false);
    llvm::IRBuilder<> run(&run_layer_->getEntryBlock());
    for (int j = 0; j < loop.steps_per_layer; ++j) {
      const int i = loop.begin + j;
      const Op& op = g_.ops[static_cast<size_t>(i)];
      Function* f = function(fmt::format("layer_step_{:02}_{}", j, c_ident(op.label)), Type::getVoidTy(ctx_), {ptr_}, false);
      f->addFnAttr(llvm::Attribute::NoInline);
      llvm::IRBuilder<> b(&f->getEntryBlock());
      enter(b);
      layer_row_ = f->getArg(0);
      layer_slot_ = j;
      call_kernel(b, c_.steps[static_cast<size_t>(i)], op, nullptr);
      layer_row_ = nullptr;
      layer_slot_ = -1;
      b.CreateRetVoid();
      run.CreateCall(f, {run_layer_->getArg(0)});
    }
    run.CreateRetVoid();
  }

  // Within a layer step, the layer's own weight, norm or KV cache from its table row;
  // elsewhere the constant itself.
  llvm::Value* layer_entry(llvm::IRBuilder<>& b, int which, Constant* constant) const {
    if (!layer_row_) return constant;
    const auto it = fields_.find({layer_slot_, which});
    if (it == fields_.end()) throw Error("internal error: a layer step reads an entry its table has no field for");
    return b.CreateLoad(ptr_, b.CreateStructGEP(layer_t_, layer_row_, it->second));
  }

  llvm::Value* call_kernel(llvm::IRBuilder<>& b, const Step& s, const Op& op, llvm::Value* temperature) {
    auto act = [&](const Operand& o) { return arena_at(b, o.offset); };
    auto amax = [&](const Operand& o) { return arena_at(b, o.offset); };       // AMAX(off): the int32 before the codes
    auto codes = [&](const Operand& o) { return arena_at(b, o.offset + 4); };  // CODES(off)
    auto in = [&](size_t i) -> const Operand& { return s.inputs[i]; };
    auto out = [&](size_t i) -> const Operand& { return s.outputs[i]; };
    auto tmp = [&](size_t i) -> const Operand& { return s.scratch[i]; };
    auto call = [&](const char* name, std::vector<llvm::Value*> args) { return b.CreateCall(kernel(name), args); };
    auto position = [&]() { return b.CreateLoad(i32_, state_field(b, 0), "position"); };
    auto kv = [&]() { return layer_row_ ? layer_entry(b, 3, nullptr) : kv_layer(b, op.layer); };
    auto matrix = [&](int m) -> llvm::Value* {
      if (m < 0) return null();
      return layer_entry(b, m == op.matrix ? 0 : m == op.matrix2 ? 1 : 4, matrices_[static_cast<size_t>(m)]);
    };
    auto norm = [&]() { return layer_entry(b, 2, norms_[static_cast<size_t>(op.norm)]); };
    const int32_t n_in = op.inputs.empty() ? 0 : static_cast<int32_t>(g_.values[op.inputs[0]].elements);
    if (s.copy_first_input)  // not in place: copy, then update
      b.CreateMemCpy(act(out(0)), llvm::MaybeAlign(4), act(in(0)), llvm::MaybeAlign(4), static_cast<uint64_t>(g_.values[op.inputs[0]].bytes()));
    // The lookup kernel's scratch: its tables, where the partial sums live, chunk, pairing.
    auto lut = [&]() -> std::vector<llvm::Value*> {
      llvm::Value* sums = null();
      if (s.lut_partials == LutPartials::Scratch) sums = act(*find_operand(s, op.lut_partials));
      else if (s.lut_partials != LutPartials::None) sums = act(out(0));
      return {act(*find_operand(s, op.lut_tables)), sums, i32c(op.lut_chunk), i32c(s.lut_partials == LutPartials::PairedInOutput ? 1 : 0)};
    };
    auto with = [](std::vector<llvm::Value*> a, const std::vector<llvm::Value*>& more) {
      a.insert(a.end(), more.begin(), more.end());
      return a;
    };
    switch (op.kind) {
      case OpKind::Embed:
        return call("bgk_embed", {act(out(0)), tok_, pos_ ? static_cast<Constant*>(pos_) : null(), b.CreateLoad(i32_, state_field(b, 1), "token"), position()});
      case OpKind::Norm: return call("bgk_norm", {act(in(0)), norm(), act(out(0))});
      case OpKind::Quantize: return call("bgk_quantize", {act(in(0)), i32c(n_in), codes(out(0)), amax(out(0))});
      case OpKind::NormQuantize:
        if (!s.scratch.empty() || s.normalise_over_input)
          return call("bgk_norm_quantize_via", {act(in(0)), norm(), s.scratch.empty() ? act(in(0)) : act(tmp(0)),
                                                codes(out(0)), amax(out(0))});
        return call("bgk_norm_quantize", {act(in(0)), norm(), codes(out(0)), amax(out(0))});
      case OpKind::MatMul: {
        const Operand& x = in(op.accumulate ? 1 : 0);
        const std::vector<llvm::Value*> args = {matrix(op.matrix), codes(x), amax(x), act(out(0)), i32c(op.accumulate ? 1 : 0)};
        return op.kernel == Kernel::Lookup ? call("bgk_lut_matvec", with(args, lut())) : call("bgk_matvec", args);
      }
      case OpKind::FfnUp: {
        const std::vector<llvm::Value*> args = {matrix(op.matrix), matrix(op.matrix2), i32c(op.activation), codes(in(0)), amax(in(0)), act(out(0))};
        return op.kernel == Kernel::Lookup ? call("bgk_lut_ffn_up", with(args, lut())) : call("bgk_ffn_up", args);
      }
      case OpKind::SharedMatMul: {
        const std::vector<llvm::Value*> args = {matrix(op.matrix), matrix(op.matrix2), matrix(op.matrix3), codes(in(0)), amax(in(0)), act(out(0)),
                                                act(out(1)), op.outputs.size() > 2 ? act(out(2)) : null()};
        return op.kernel == Kernel::Lookup ? call("bgk_lut_matvecs", with(args, lut())) : call("bgk_matvecs", args);
      }
      case OpKind::Add: return call("bgk_add", {act(in(0)), act(in(1)), act(out(0)), i32c(n_in)});
      case OpKind::Mul: return call("bgk_mul", {act(in(0)), act(in(1)), act(out(0)), i32c(n_in)});
      case OpKind::Activation: return call("bgk_activation", {i32c(op.activation), act(in(0)), act(out(0)), i32c(n_in)});
      case OpKind::RopeAngles: return call("bgk_rope_angles", {act(out(0)), rope_freq_, i32c(g_.arch.head_dim / 2), position()});
      case OpKind::Rope: return call("bgk_rope", {act(out(0)), i32c(op.heads), i32c(g_.arch.head_dim), act(in(1))});
      case OpKind::KvWrite: return call("bgk_kv_write", {kv(), attn_, position(), act(in(0)), act(in(1))});
      case OpKind::AttnScores: return call("bgk_attn_scores", {kv(), attn_, position(), act(in(0)), act(tmp(0)), act(out(0))});
      case OpKind::AttnSoftmax: return call("bgk_attn_softmax", {attn_, position(), act(out(0))});
      case OpKind::AttnWeightedSum:
        return call("bgk_attn_weighted_sum", {kv(), attn_, position(), act(in(0)), act(tmp(0)), act(out(0))});
      case OpKind::Attention:
        return call("bgk_attention", {kv(), attn_, position(), act(in(0)), act(tmp(0)), act(tmp(1)), act(tmp(2)), act(out(0))});
      case OpKind::Sample: return call("bgk_sample", {act(in(0)), i32c(n_in), temperature, state_field(b, 2), state_field(b, 3)});
      case OpKind::ClassifySample:
        return call("bgk_classify_sample", {matrix(op.matrix), codes(in(0)), op.input_pairs == kNoValue ? null() : act(*find_operand(s, op.input_pairs)), amax(in(0)), temperature,
                                            state_field(b, 2), state_field(b, 3)});
    }
    throw Error("internal error: a step the object backend does not know");
  }

  // ---- the C API of NAME.h ----
  Function* api(const char* what, Type* result, std::vector<Type*> params) { return function(n_ + "_" + what, result, params, true); }

  void make_api() {
    Type* void_t = Type::getVoidTy(ctx_);
    Function* reset = api("reset", void_t, {i64_});
    {
      llvm::IRBuilder<> b(&reset->getEntryBlock());
      enter(b);
      const llvm::DataLayout& dl = m_->getDataLayout();
      if (c_.caller_memory) {
        b.CreateMemSet(ram_base_, ConstantInt::get(i8_, 0), static_cast<uint64_t>(layout_.total), llvm::MaybeAlign(8));
      } else {
        for (GlobalVariable* g : {arena_, kv_arrays_[0], kv_arrays_[1], kv_arrays_[2], kv_arrays_[3]})
          b.CreateMemSet(g, ConstantInt::get(i8_, 0), dl.getTypeAllocSize(g->getValueType()).getFixedValue(), g->getAlign());
      }
      b.CreateStore(i32c(0), state_field(b, 0));
      b.CreateStore(i32c(0), state_field(b, 1));
      b.CreateStore(reset->getArg(0), state_field(b, 2));
      b.CreateStore(ConstantInt::get(i64_, BG_FNV_OFFSET), state_field(b, 3));
      b.CreateRetVoid();
    }
    if (c_.caller_memory) {
      // 0, or -1 when memory is null, not 8-byte aligned or smaller than NAME_RAM_BYTES
      Function* f = api("init", i32_, {ptr_, i32_});
      llvm::IRBuilder<> b(&f->getEntryBlock());
      llvm::Value* memory = f->getArg(0);
      llvm::Value* bad = b.CreateOr(b.CreateICmpEQ(memory, null()),
                                    b.CreateOr(b.CreateICmpNE(b.CreateAnd(b.CreatePtrToInt(memory, i32_), i32c(7)), i32c(0)),
                                               b.CreateICmpULT(f->getArg(1), i32c(layout_.total))));
      llvm::BasicBlock* no = llvm::BasicBlock::Create(ctx_, "reject", f);
      llvm::BasicBlock* yes = llvm::BasicBlock::Create(ctx_, "ok", f);
      b.CreateCondBr(bad, no, yes);
      b.SetInsertPoint(no);
      b.CreateRet(i32c(-1));
      b.SetInsertPoint(yes);
      b.CreateStore(memory, ram_);
      b.CreateCall(reset, {ConstantInt::get(i64_, 0)});
      b.CreateRet(i32c(0));
    }
    Function* feed = api("feed", i32_, {i32_});
    {
      // -1: not a token; -2: a learned-position model used all its positions
      llvm::IRBuilder<> b(&feed->getEntryBlock());
      enter(b);
      llvm::Value* token = feed->getArg(0);
      auto reject_if = [&](llvm::Value* condition, int32_t code) {
        llvm::BasicBlock* no = llvm::BasicBlock::Create(ctx_, "reject", feed);
        llvm::BasicBlock* yes = llvm::BasicBlock::Create(ctx_, "ok", feed);
        b.CreateCondBr(condition, no, yes);
        b.SetInsertPoint(no);
        b.CreateRet(i32c(code));
        b.SetInsertPoint(yes);
      };
      reject_if(b.CreateICmpUGE(token, i32c(g_.arch.vocab_size)), -1);  // unsigned: negative tokens too
      if (g_.constants.has_pos_embeddings) reject_if(b.CreateICmpSGE(b.CreateLoad(i32_, state_field(b, 0)), i32c(g_.arch.max_seq_len)), -2);
      b.CreateStore(token, state_field(b, 1));
      for (int i = 0; i < g_.next_stage_begin; ++i) {
        if (loop_ && i == loop_->begin)
          for (int l = 0; l < loop_->layers; ++l) b.CreateCall(run_layer_, {element(layers_, static_cast<uint64_t>(l))});
        if (!in_loop(i)) b.CreateCall(steps_[static_cast<size_t>(i)]);
      }
      b.CreateStore(b.CreateAdd(b.CreateLoad(i32_, state_field(b, 0)), i32c(1)), state_field(b, 0));
      b.CreateRet(i32c(0));
    }
    {
      Function* f = api("next", i32_, {i32_});
      llvm::IRBuilder<> b(&f->getEntryBlock());
      llvm::Value* chosen = i32c(-1);
      for (size_t i = static_cast<size_t>(g_.next_stage_begin); i < steps_.size(); ++i)
        if (steps_[i]->arg_size() == 1) chosen = b.CreateCall(steps_[i], {f->getArg(0)});
        else b.CreateCall(steps_[i]);
      b.CreateRet(chosen);
    }
    {
      Function* f = api("logits_checksum", i64_, {});
      llvm::IRBuilder<> b(&f->getEntryBlock());
      enter(b);
      b.CreateRet(b.CreateLoad(i64_, state_field(b, 3)));
    }
    // The text functions: the runtime's, on this model's vocabulary.
    using Tail = std::function<std::vector<llvm::Value*>(llvm::IRBuilder<>&)>;
    auto forward = [&](const char* what, const char* kernel_name, Type* result, std::vector<Type*> params, Tail tail = nullptr) {
      Function* f = api(what, result, params);
      llvm::IRBuilder<> b(&f->getEntryBlock());
      enter(b);
      std::vector<llvm::Value*> args = {vocab_};
      for (llvm::Argument& a : f->args()) args.push_back(&a);
      if (tail)
        for (llvm::Value* v : tail(b)) args.push_back(v);
      b.CreateRet(b.CreateCall(kernel(kernel_name), args));
    };
    forward("token_text", "bgk_token_text", ptr_, {i32_, ptr_});
    forward("decode", "bgk_decode", ptr_, {i32_, i32_, ptr_});
    forward("encode", "bgk_encode", i32_, {ptr_, i32_, ptr_, i32_, ptr_});
    forward("feed_text", "bgk_feed_text", i32_, {ptr_, i32_, ptr_}, [&](llvm::IRBuilder<>& b) -> std::vector<llvm::Value*> {
      const bool bpe = g_.tokenizer.kind == TokenizerKind::Bpe;
      return {prompt_buffer(b), i32c(bpe ? c_.max_prompt_bytes : 0), feed};
    });
    {
      Function* f = api("parse_temperature", i32_, {ptr_});
      llvm::IRBuilder<> b(&f->getEntryBlock());
      b.CreateRet(b.CreateCall(kernel("bgk_parse_temperature"), {f->getArg(0)}));
    }
    {
      Function* f = api("provenance", ptr_, {});
      llvm::IRBuilder<> b(&f->getEntryBlock());
      b.CreateRet(global("provenance_text", llvm::ConstantDataArray::getString(ctx_, made_by(origin_)), true, "", 1));
    }
  }
};

}  // namespace

std::unique_ptr<llvm::Module> build_model_module(llvm::LLVMContext& context, const CompiledModel& c, const Provenance& origin,
                                                 const ObjectSections& sections) {
  return ModuleBuilder(context, c, origin, sections).build();
}

bool is_api_symbol(const CompiledModel& c, const std::string& symbol) {
  for (const char* what : kApiFunctions)
    if (symbol == c.graph.name + "_" + what) return true;
  return c.caller_memory && symbol == c.graph.name + "_init";
}

}  // namespace bitgpt
