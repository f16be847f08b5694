# bitgptc for Make-based firmware projects (GNU Make 4.3 or later):
#
#   include $(BITGPTC_PREFIX)/share/bitgptc/bitgptc.mk
#   $(eval $(call bitgptc_model,NAME,MODEL,TARGET,SRAM,OUTDIR[,MORE OPTIONS]))
#
# gives a rule that writes OUTDIR/NAME.h, OUTDIR/NAME.cpp and OUTDIR/NAME_weights.cpp (a
# grouped target) and includes bitgptc's dependency file, so the model is compiled again
# when, and only when, its manifest, weights, tokenizer or bitgptc itself change. Compile
# OUTDIR/NAME.cpp and OUTDIR/NAME_weights.cpp with -std=c++17 -fno-exceptions -fno-rtti
# and -IOUTDIR; link with the C compiler driver (the model needs no libstdc++). Name your
# default target before the $(eval ...), or the model's rule becomes Make's default goal.
#
#   $(eval $(call bitgptc_object,NAME,MODEL,TARGET,SRAM,OUTDIR[,MORE OPTIONS]))
#
# is the same with the object backend: OUTDIR/NAME.h and OUTDIR/NAME.o, one ELF object
# LLVM generated inside bitgptc, to link as it is (nothing of the model to compile).
BITGPTC ?= bitgptc

define bitgptc_model
$(5)/$(1).h $(5)/$(1).cpp $(5)/$(1)_weights.cpp &: $(2)
	$$(BITGPTC) $(2) --target $(3) --sram $(4) --name $(1) $(6) -q -o $(5) --depfile $(5).d
-include $(5).d
endef

define bitgptc_object
$(5)/$(1).h $(5)/$(1).o &: $(2)
	$$(BITGPTC) $(2) --target $(3) --sram $(4) --name $(1) --emit obj $(6) -q -o $(5) --depfile $(5).d
-include $(5).d
endef
