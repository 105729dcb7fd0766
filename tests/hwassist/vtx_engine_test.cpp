#include <doctest/doctest.h>

#include "core/mem/ept_paging.hpp"
#include "vtx_fixture.hpp"

using namespace hvsim;
using namespace hvsim::vmx;
using hvsim::test::cat;
using hvsim::test::kExit;
using hvsim::test::preset_named;
using hvsim::test::VtxVm;

namespace {
const std::vector<uint8_t> kCpuidLoop5 = {0xbe, 0x05, 0x00, 0x00, 0x00,  // mov esi, 5
                                          0x31, 0xc0,                    // xor eax, eax
                                          0x0f, 0xa2,                    // cpuid
                                          0xff, 0xce,                    // dec esi
                                          0x75, 0xf8};                   // jnz -8
const std::vector<uint8_t> kRdtsc = {0x0f, 0x31};
const std::vector<uint8_t> kMovCr8Rax = {0x44, 0x0f, 0x22, 0xc0};
const std::vector<uint8_t> kMovRaxCr8 = {0x44, 0x0f, 0x20, 0xc0};
const std::vector<uint8_t> kMovRaxCr3 = {0x0f, 0x20, 0xd8};
const std::vector<uint8_t> kMovCr3Rax = {0x0f, 0x22, 0xd8};
const std::vector<uint8_t> kInvlpg200000 = {0x0f, 0x01, 0x3c, 0x25, 0x00, 0x00, 0x20, 0x00};
const std::vector<uint8_t> kHlt = {0xf4};
const std::vector<uint8_t> kVmcallVersion = {0xb8, 0x00, 0x00, 0x00, 0x00, 0x0f, 0x01, 0xc1};
const std::vector<uint8_t> kRdmsrFsBase = {0xb9, 0x00, 0x01, 0x00, 0xc0, 0x0f, 0x32};
const std::vector<uint8_t> kRdmsrEfer = {0xb9, 0x80, 0x00, 0x00, 0xc0, 0x0f, 0x32};
const std::vector<uint8_t> kDivideByZero = {0x31, 0xd2, 0x31, 0xc9, 0x48, 0xf7, 0xf1};  // xor edx,edx; xor ecx,ecx; div rcx
const std::vector<uint8_t> kLoadUnmapped = {0x48, 0xa1, 0, 0, 0, 0, 0, 0x7f, 0, 0};  // mov rax, [0x7f0000000000]

Preset with_proc(Preset p, uint32_t set_bits) {
  p.vmcs.set(Field::CPU_BASED_VM_EXEC_CONTROL, p.vmcs.proc() | set_bits);
  return p;
}
}  // namespace

TEST_CASE("VtxEngine: CPUID exits unconditionally, once per executed CPUID, and I/O exits with its qualification") {
  VtxVm t(cat({kCpuidLoop5, kExit}), preset_named("vtx-ept"));
  RunOutcome out = t.run();
  CHECK(out.end == RunEnd::Exited);
  CHECK(t.exits(ExitReason::Cpuid) == 5);
  CHECK(t.exits(ExitReason::IoInstruction) == 1);
  // The last exit: OUT 0xf4, AL: size 1, out, immediate operand, port 0xf4 (SDM Table 28-5).
  CHECK(t.field(Field::VM_EXIT_REASON) == 30);
  CHECK(t.field(Field::EXIT_QUALIFICATION) == ((0xf4ull << 16) | (1u << 6)));
  CHECK(t.field(Field::VM_EXIT_INSTRUCTION_LEN) == 2);
  CHECK(t.log.counts_by_kind().at("vm_exit") == 6);
}

TEST_CASE("VtxEngine: RDTSC exits when RDTSC exiting is set, and only then") {
  VtxVm off(cat({kRdtsc, kExit}), preset_named("vtx-ept"));
  off.run();
  CHECK(off.exits(ExitReason::Rdtsc) == 0);
  VtxVm on(cat({kRdtsc, kExit}), with_proc(preset_named("vtx-ept"), proc::RDTSC_EXITING));
  on.run();
  CHECK(on.exits(ExitReason::Rdtsc) == 1);
}

TEST_CASE("VtxEngine: CR8 accesses exit without a TPR shadow, not with one") {
  VtxVm y2006(cat({kMovCr8Rax, kMovRaxCr8, kExit}), preset_named("vtx-2006"));
  y2006.run();
  CHECK(y2006.exits(ExitReason::CrAccess) == 2);
  CHECK(y2006.field(Field::VM_EXIT_REASON) == 30);  // the OUT came last
  VtxVm ept(cat({kMovCr8Rax, kMovRaxCr8, kExit}), preset_named("vtx-ept"));
  ept.run();
  CHECK(ept.exits(ExitReason::CrAccess) == 0);
}

TEST_CASE("VtxEngine: CR3 loads and stores exit under vtx-2006 with the SDM's qualification") {
  VtxVm t(cat({kMovRaxCr3, kMovCr3Rax, kHlt}), preset_named("vtx-2006"));
  t.run();
  CHECK(t.exits(ExitReason::CrAccess) == 2);
  CHECK(t.exits(ExitReason::Hlt) == 1);
  VtxVm e(cat({kMovRaxCr3, kMovCr3Rax, kHlt}), preset_named("vtx-ept"));
  e.run();
  CHECK(e.exits(ExitReason::CrAccess) == 0);
}

TEST_CASE("VtxEngine: the CR-access qualification names the register, the direction and the CR") {
  const std::vector<uint8_t> spin = {0xeb, 0xfe};
  VtxVm store(cat({kMovRaxCr3, spin}), preset_named("vtx-2006"), 1000);
  store.run();
  CHECK(store.field(Field::VM_EXIT_REASON) == 28);
  CHECK(store.field(Field::EXIT_QUALIFICATION) == 0x13);  // CR3, MOV from CR, RAX
  CHECK(store.field(Field::VM_EXIT_INSTRUCTION_LEN) == 3);
  const std::vector<uint8_t> mov_cr3_rbx = {0x0f, 0x20, 0xdb, 0x0f, 0x22, 0xdb};  // mov rbx, cr3; mov cr3, rbx
  VtxVm load(cat({mov_cr3_rbx, spin}), preset_named("vtx-2006"), 1000);
  load.run();
  CHECK(load.exits(ExitReason::CrAccess) == 2);
  CHECK(load.field(Field::EXIT_QUALIFICATION) == 0x303);  // CR3, MOV to CR, RBX
}

TEST_CASE("VtxEngine: INVLPG exits under vtx-2006 with the linear address as qualification") {
  VtxVm t(cat({kInvlpg200000, kHlt}), preset_named("vtx-2006"));
  t.run();
  CHECK(t.exits(ExitReason::Invlpg) == 1);
  VtxVm e(cat({kInvlpg200000, kHlt}), preset_named("vtx-ept"));
  e.run();
  CHECK(e.exits(ExitReason::Invlpg) == 0);
  VtxVm q(cat({kInvlpg200000, kExit}), preset_named("vtx-2006"));
  q.run();
  CHECK(q.exits(ExitReason::Invlpg) == 1);
}

TEST_CASE("VtxEngine: HLT exits") {
  VtxVm t(kHlt, preset_named("vtx-ept"));
  RunOutcome out = t.run();
  CHECK(out.end == RunEnd::HaltedForever);
  CHECK(t.exits(ExitReason::Hlt) == 1);
  CHECK(t.field(Field::VM_EXIT_REASON) == 12);
  CHECK(t.field(Field::VM_EXIT_INSTRUCTION_LEN) == 1);
}

TEST_CASE("VtxEngine: VMCALL is a hypercall; the version call answers") {
  VtxVm t(cat({kVmcallVersion, kHlt}), preset_named("vtx-ept"));
  t.run();
  CHECK(t.exits(ExitReason::Vmcall) == 1);
  CHECK(t.vm->cpu().gpr(Gpr::Rax) == kHypercallVersion);
}

TEST_CASE("VtxEngine: the MSR bitmap passes FS_BASE through and not EFER; without bitmaps all exit") {
  VtxVm ept(cat({kRdmsrFsBase, kRdmsrEfer, kHlt}), preset_named("vtx-ept"));
  ept.run();
  CHECK(ept.exits(ExitReason::Rdmsr) == 1);
  VtxVm y2006(cat({kRdmsrFsBase, kRdmsrEfer, kHlt}), preset_named("vtx-2006"));
  y2006.run();
  CHECK(y2006.exits(ExitReason::Rdmsr) == 2);
}

TEST_CASE("VtxEngine: an exception exits when its bit is set in the exception bitmap") {
  VtxVm off(cat({kDivideByZero, kHlt}), preset_named("vtx-ept"));
  off.run();
  CHECK(off.exits(ExitReason::ExceptionOrNmi) == 0);
  Preset p = preset_named("vtx-ept");
  p.vmcs.set(Field::EXCEPTION_BITMAP, 1u << vec::DE);
  VtxVm on(cat({kDivideByZero, kHlt}), p);
  on.run();  // no IDT: #DE, then #DF and a triple fault
  CHECK(on.exits(ExitReason::ExceptionOrNmi) == 1);
  // Reflected on VM entry: vector 0, hardware exception, no error code, valid.
  CHECK(on.field(Field::VM_ENTRY_INTR_INFO_FIELD) == 0x80000300u);
  CHECK(on.exits(ExitReason::TripleFault) == 1);
}

TEST_CASE("VtxEngine: page faults exit by the bitmap, the error-code mask and match") {
  VtxVm all(cat({kLoadUnmapped, kHlt}), preset_named("vtx-2006"));
  all.run();
  // The #PF exits (reflected, no IDT: then #DF, not in the bitmap, and a triple fault).
  CHECK(all.exits(ExitReason::ExceptionOrNmi) >=
        1 + all.vm->mmu().counters().hidden_faults + all.vm->mmu().counters().pt_write_traces);
  CHECK(all.exits(ExitReason::TripleFault) == 1);
  // mask P, match P: a not-present fault does not match, so it exits only if bit 14 is clear.
  Preset p = preset_named("vtx-2006");
  p.vmcs.set(Field::PAGE_FAULT_ERROR_CODE_MASK, 1);
  p.vmcs.set(Field::PAGE_FAULT_ERROR_CODE_MATCH, 1);
  VtxVm masked(cat({kLoadUnmapped, kHlt}), p);
  masked.run();
  CHECK(masked.engine->exits(*masked.vm).by_reason[0] == masked.vm->mmu().counters().hidden_faults +
                                                               masked.vm->mmu().counters().pt_write_traces +
                                                               masked.vm->mmu().counters().isolation_events);
}

namespace {
Preset with_proc2(Preset p, uint32_t set_bits) {
  p.vmcs.set(Field::CPU_BASED_VM_EXEC_CONTROL, p.vmcs.proc() | proc::ACTIVATE_SECONDARY);
  p.vmcs.set(Field::SECONDARY_VM_EXEC_CONTROL, p.vmcs.proc2() | set_bits);
  return p;
}
const std::vector<uint8_t> kPause = {0xf3, 0x90};
const std::vector<uint8_t> kWbinvd = {0x0f, 0x09};
const std::vector<uint8_t> kMovDr = {0x0f, 0x21, 0xf8, 0x0f, 0x23, 0xf8};  // mov rax, dr7; mov dr7, rax
const std::vector<uint8_t> kRdpmc = {0x31, 0xc9, 0x0f, 0x33};              // xor ecx, ecx; rdpmc
const std::vector<uint8_t> kRdrand = {0x0f, 0xc7, 0xf0};                    // rdrand eax
const std::vector<uint8_t> kSgdtStr = {0x0f, 0x01, 0x04, 0x25, 0x00, 0x00, 0x03, 0x00,  // sgdt [0x30000]
                                       0x0f, 0x00, 0xc8};                                 // str eax
const std::vector<uint8_t> kXsetbv = {0x0f, 0x01, 0xd1};
}  // namespace

// One case per control: the exit happens when the control is set and not when it is clear.
TEST_CASE("VtxEngine: PAUSE, RDPMC and RDRAND exit only under their controls") {
  struct Case {
    const char* what;
    std::vector<uint8_t> code;
    ExitReason reason;
    Preset set, clear;
  };
  const Case cases[] = {
      {"PAUSE", kPause, ExitReason::Pause, with_proc(preset_named("vtx-ept"), proc::PAUSE_EXITING), preset_named("vtx-ept")},
      {"RDPMC", kRdpmc, ExitReason::Rdpmc, with_proc(preset_named("vtx-ept"), proc::RDPMC_EXITING), preset_named("vtx-ept")},
      {"RDRAND", kRdrand, ExitReason::Rdrand, with_proc2(preset_named("vtx-ept"), proc2::RDRAND_EXITING),
       preset_named("vtx-ept")},
      {"WBINVD", kWbinvd, ExitReason::Wbinvd, preset_named("vtx-ept"), preset_named("vtx-2006")},
  };
  for (const Case& c : cases) {
    const std::string what = c.what;
    CAPTURE(what);
    VtxVm on(cat({c.code, kExit}), c.set);
    on.run();
    CHECK(on.exits(c.reason) == 1);
    VtxVm off(cat({c.code, kExit}), c.clear);
    off.run();
    CHECK(off.exits(c.reason) == 0);
  }
}

TEST_CASE("VtxEngine: MOV DR exits under MOV-DR exiting with the DR, direction and register") {
  const std::vector<uint8_t> spin = {0xeb, 0xfe};
  VtxVm t(cat({kMovDr, spin}), preset_named("vtx-2006"), 1000);
  t.run();
  CHECK(t.exits(ExitReason::MovDr) == 2);
  CHECK(t.field(Field::VM_EXIT_REASON) == 29);
  CHECK(t.field(Field::EXIT_QUALIFICATION) == 7);  // DR7, MOV to DR, RAX
  VtxVm e(cat({kMovDr, spin}), preset_named("vtx-ept"), 1000);
  e.run();
  CHECK(e.exits(ExitReason::MovDr) == 0);
}

TEST_CASE("VtxEngine: SGDT and STR exit under descriptor-table exiting") {
  VtxVm on(cat({kSgdtStr, kExit}), with_proc2(preset_named("vtx-ept"), proc2::DESCRIPTOR_TABLE_EXITING));
  on.run();
  CHECK(on.exits(ExitReason::GdtrIdtrAccess) == 1);
  CHECK(on.exits(ExitReason::LdtrTrAccess) == 1);
  VtxVm off(cat({kSgdtStr, kExit}), preset_named("vtx-ept"));
  off.run();
  CHECK(off.exits(ExitReason::GdtrIdtrAccess) == 0);
  CHECK(off.exits(ExitReason::LdtrTrAccess) == 0);
}

TEST_CASE("VtxEngine: XSETBV with CR4.OSXSAVE clear is #UD, not an exit") {
  VtxVm t(cat({kXsetbv, kExit}), preset_named("vtx-ept"));
  t.run();
  CHECK(t.exits(ExitReason::Xsetbv) == 0);
  CHECK(t.vm->counters().exceptions_delivered >= 1);
}

TEST_CASE("VtxEngine: the VMX-preemption timer exits every value x 2^5 TSC ticks of guest time") {
  // mov ecx, 100000 ; loop: dec ecx ; jnz loop
  const std::vector<uint8_t> loop = {0xb9, 0xa0, 0x86, 0x01, 0x00, 0xff, 0xc9, 0x75, 0xfc};
  Preset p = preset_named("vtx-ept");
  p.vmcs.set(Field::PIN_BASED_VM_EXEC_CONTROL, p.vmcs.pin() | pin::PREEMPTION_TIMER);
  p.vmcs.set(Field::VMX_PREEMPTION_TIMER_VALUE, 100);
  VtxVm t(cat({loop, kExit}), p, 1'000'000);
  REQUIRE(t.run().end == RunEnd::Exited);
  const uint64_t period = 100u << kPreemptionTimerRate;
  CHECK(t.exits(ExitReason::PreemptionTimer) == t.vm->now_ns() / period);
  CHECK(t.exits(ExitReason::PreemptionTimer) > 50);
  VtxVm off(cat({loop, kExit}), preset_named("vtx-ept"), 1'000'000);
  off.run();
  CHECK(off.exits(ExitReason::PreemptionTimer) == 0);
}

TEST_CASE("VtxEngine: with a TPR shadow, lowering the TPR below a waiting interrupt's class exits") {
  const std::vector<uint8_t> code = {
      0xb8, 0x0f, 0x00, 0x00, 0x00,  // mov eax, 15
      0x44, 0x0f, 0x22, 0xc0,        // mov cr8, rax: every interrupt class masked
      0xb8, 0xe8, 0x03, 0x00, 0x00,  // mov eax, 1000
      0xe7, 0xf0,                    // out 0xf0, eax: the test timer every 1000 ns (vector 0x20)
      0xb9, 0x88, 0x13, 0x00, 0x00,  // mov ecx, 5000
      0xff, 0xc9, 0x75, 0xfc,        // loop: dec ecx ; jnz loop (the timer fires, masked)
      0x31, 0xc0,                    // xor eax, eax
      0x44, 0x0f, 0x22, 0xc0};       // mov cr8, rax: below the threshold
  VtxVm ept(cat({code, kExit}), preset_named("vtx-ept"));
  ept.run();
  CHECK(ept.exits(ExitReason::TprBelowThreshold) == 1);
  CHECK(ept.exits(ExitReason::CrAccess) == 0);
  VtxVm y2006(cat({code, kExit}), preset_named("vtx-2006"));  // no TPR shadow: CR8 writes exit instead
  y2006.run();
  CHECK(y2006.exits(ExitReason::TprBelowThreshold) == 0);
  CHECK(y2006.exits(ExitReason::CrAccess) == 2);
}

TEST_CASE("VtxEngine: an EPT entry the processor cannot use is an EPT-misconfiguration exit") {
  const std::vector<uint8_t> load = {0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x20, 0x00};  // mov rax, [0x200000]
  VtxVm t(cat({load, kExit}), preset_named("vtx-ept"));
  auto& mmu = dynamic_cast<EptPaging&>(t.vm->mmu());
  uint64_t* leaf = mmu.tables().leaf_entry(0x200000);
  REQUIRE(leaf);
  *leaf = (*leaf & ~ept::R) | ept::W;  // write without read (SDM 29.3.3.1)
  t.run();
  CHECK(t.exits(ExitReason::EptMisconfig) == 1);
  CHECK(t.exits(ExitReason::EptViolation) == 0);
}

TEST_CASE("VtxEngine: RDTSCP and RDSEED exit under their controls; INVD always exits") {
  const std::vector<uint8_t> rdtscp = {0x0f, 0x01, 0xf9};
  const std::vector<uint8_t> rdseed = {0x0f, 0xc7, 0xf8};  // rdseed eax
  const std::vector<uint8_t> invd = {0x0f, 0x08};
  VtxVm tscp_on(cat({rdtscp, kExit}), with_proc(preset_named("vtx-ept"), proc::RDTSC_EXITING));
  tscp_on.run();
  CHECK(tscp_on.exits(ExitReason::Rdtscp) == 1);
  VtxVm tscp_off(cat({rdtscp, kExit}), preset_named("vtx-ept"));
  tscp_off.run();
  CHECK(tscp_off.exits(ExitReason::Rdtscp) == 0);
  VtxVm seed_on(cat({rdseed, kExit}), with_proc2(preset_named("vtx-ept"), proc2::RDSEED_EXITING));
  seed_on.run();
  CHECK(seed_on.exits(ExitReason::Rdseed) == 1);
  VtxVm seed_off(cat({rdseed, kExit}), preset_named("vtx-ept"));
  seed_off.run();
  CHECK(seed_off.exits(ExitReason::Rdseed) == 0);
  VtxVm inv(cat({invd, kExit}), preset_named("vtx-ept"));
  inv.run();
  CHECK(inv.exits(ExitReason::Invd) == 1);
}

TEST_CASE("VtxEngine: the VMX-preemption timer raises no guest interrupt, so it cannot end a HLT") {
  const std::vector<uint8_t> sti_hlt = {0xfb, 0xf4};  // sti ; hlt, no interrupt source
  Preset p = preset_named("vtx-ept");
  p.vmcs.set(Field::PIN_BASED_VM_EXEC_CONTROL, p.vmcs.pin() | pin::PREEMPTION_TIMER);
  p.vmcs.set(Field::VMX_PREEMPTION_TIMER_VALUE, 100);
  VtxVm t(sti_hlt, p);
  // Bounded: the VM used to skip from one preemption-timer deadline to the next forever.
  RunOutcome out = t.vm->run(100'000'000);
  CHECK(out.end == RunEnd::HaltedForever);
  CHECK(t.exits(ExitReason::Hlt) == 1);
}
