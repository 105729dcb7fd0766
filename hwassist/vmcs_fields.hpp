#pragma once
// VMCS field encodings (Intel SDM Vol. 3C, Appendix B), by the SDM's names. Bits 14:13 of an
// encoding give its width (0 16-bit, 1 64-bit, 2 32-bit, 3 natural), bits 11:10 its type
// (0 control, 1 read-only exit information, 2 guest state, 3 host state).
#include <cstdint>

namespace hvsim::vmx {

#define HVSIM_VMCS_FIELDS(X)                                             \
  /* 16-bit */                                                           \
  X(VIRTUAL_PROCESSOR_ID, 0x0000)                                        \
  X(GUEST_ES_SELECTOR, 0x0800) X(GUEST_CS_SELECTOR, 0x0802)              \
  X(GUEST_SS_SELECTOR, 0x0804) X(GUEST_DS_SELECTOR, 0x0806)              \
  X(GUEST_FS_SELECTOR, 0x0808) X(GUEST_GS_SELECTOR, 0x080a)              \
  X(GUEST_LDTR_SELECTOR, 0x080c) X(GUEST_TR_SELECTOR, 0x080e)            \
  X(HOST_ES_SELECTOR, 0x0c00) X(HOST_CS_SELECTOR, 0x0c02)                \
  X(HOST_SS_SELECTOR, 0x0c04) X(HOST_DS_SELECTOR, 0x0c06)                \
  X(HOST_FS_SELECTOR, 0x0c08) X(HOST_GS_SELECTOR, 0x0c0a)                \
  X(HOST_TR_SELECTOR, 0x0c0c)                                            \
  /* 64-bit control */                                                   \
  X(IO_BITMAP_A, 0x2000) X(IO_BITMAP_B, 0x2002) X(MSR_BITMAP, 0x2004)    \
  X(VM_EXIT_MSR_STORE_ADDR, 0x2006) X(VM_EXIT_MSR_LOAD_ADDR, 0x2008)     \
  X(VM_ENTRY_MSR_LOAD_ADDR, 0x200a) X(TSC_OFFSET, 0x2010)                \
  X(VIRTUAL_APIC_PAGE_ADDR, 0x2012) X(APIC_ACCESS_ADDR, 0x2014)          \
  X(EPT_POINTER, 0x201a)                                                 \
  /* 64-bit read-only */                                                 \
  X(GUEST_PHYSICAL_ADDRESS, 0x2400)                                      \
  /* 64-bit guest state */                                               \
  X(VMCS_LINK_POINTER, 0x2800) X(GUEST_IA32_DEBUGCTL, 0x2802)            \
  X(GUEST_IA32_PAT, 0x2804) X(GUEST_IA32_EFER, 0x2806)                   \
  /* 64-bit host state */                                                \
  X(HOST_IA32_PAT, 0x2c00) X(HOST_IA32_EFER, 0x2c02)                     \
  /* 32-bit control */                                                   \
  X(PIN_BASED_VM_EXEC_CONTROL, 0x4000) X(CPU_BASED_VM_EXEC_CONTROL, 0x4002) \
  X(EXCEPTION_BITMAP, 0x4004) X(PAGE_FAULT_ERROR_CODE_MASK, 0x4006)      \
  X(PAGE_FAULT_ERROR_CODE_MATCH, 0x4008) X(CR3_TARGET_COUNT, 0x400a)     \
  X(VM_EXIT_CONTROLS, 0x400c) X(VM_EXIT_MSR_STORE_COUNT, 0x400e)         \
  X(VM_EXIT_MSR_LOAD_COUNT, 0x4010) X(VM_ENTRY_CONTROLS, 0x4012)         \
  X(VM_ENTRY_MSR_LOAD_COUNT, 0x4014) X(VM_ENTRY_INTR_INFO_FIELD, 0x4016) \
  X(VM_ENTRY_EXCEPTION_ERROR_CODE, 0x4018) X(VM_ENTRY_INSTRUCTION_LEN, 0x401a) \
  X(TPR_THRESHOLD, 0x401c) X(SECONDARY_VM_EXEC_CONTROL, 0x401e)          \
  X(PLE_GAP, 0x4020) X(PLE_WINDOW, 0x4022)                               \
  /* 32-bit read-only */                                                 \
  X(VM_INSTRUCTION_ERROR, 0x4400) X(VM_EXIT_REASON, 0x4402)              \
  X(VM_EXIT_INTR_INFO, 0x4404) X(VM_EXIT_INTR_ERROR_CODE, 0x4406)        \
  X(IDT_VECTORING_INFO_FIELD, 0x4408) X(IDT_VECTORING_ERROR_CODE, 0x440a) \
  X(VM_EXIT_INSTRUCTION_LEN, 0x440c) X(VMX_INSTRUCTION_INFO, 0x440e)     \
  /* 32-bit guest state */                                               \
  X(GUEST_INTERRUPTIBILITY_INFO, 0x4824) X(GUEST_ACTIVITY_STATE, 0x4826) \
  X(GUEST_SYSENTER_CS, 0x482a) X(VMX_PREEMPTION_TIMER_VALUE, 0x482e)     \
  /* natural-width control */                                            \
  X(CR0_GUEST_HOST_MASK, 0x6000) X(CR4_GUEST_HOST_MASK, 0x6002)          \
  X(CR0_READ_SHADOW, 0x6004) X(CR4_READ_SHADOW, 0x6006)                  \
  X(CR3_TARGET_VALUE0, 0x6008) X(CR3_TARGET_VALUE1, 0x600a)              \
  X(CR3_TARGET_VALUE2, 0x600c) X(CR3_TARGET_VALUE3, 0x600e)              \
  /* natural-width read-only */                                          \
  X(EXIT_QUALIFICATION, 0x6400) X(GUEST_LINEAR_ADDRESS, 0x640a)          \
  /* natural-width guest state */                                        \
  X(GUEST_CR0, 0x6800) X(GUEST_CR3, 0x6802) X(GUEST_CR4, 0x6804)         \
  X(GUEST_GDTR_BASE, 0x6816) X(GUEST_IDTR_BASE, 0x6818) X(GUEST_DR7, 0x681a) \
  X(GUEST_RSP, 0x681c) X(GUEST_RIP, 0x681e) X(GUEST_RFLAGS, 0x6820)      \
  /* natural-width host state */                                         \
  X(HOST_CR0, 0x6c00) X(HOST_CR3, 0x6c02) X(HOST_CR4, 0x6c04)            \
  X(HOST_RSP, 0x6c14) X(HOST_RIP, 0x6c16)

enum class Field : uint32_t {
#define HVSIM_VMCS_FIELD_ENUM(name, encoding) name = encoding,
  HVSIM_VMCS_FIELDS(HVSIM_VMCS_FIELD_ENUM)
#undef HVSIM_VMCS_FIELD_ENUM
};

const char* field_name(Field f);
bool is_known_field(uint32_t encoding);
// The field's width in bits (16, 32, 64; natural width is 64 in 64-bit mode).
unsigned field_width(uint32_t encoding);
// Exit-information fields cannot be written by the VMM.
inline bool is_read_only(uint32_t encoding) { return ((encoding >> 10) & 3) == 1; }

}  // namespace hvsim::vmx
