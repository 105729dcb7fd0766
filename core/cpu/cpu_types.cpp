#include "core/cpu/cpu_types.hpp"

namespace hvsim {

const char* gpr_name(Gpr r) {
  static constexpr const char* names[] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                          "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};
  return names[static_cast<int>(r)];
}

const char* seg_name(Seg s) {
  static constexpr const char* names[] = {"es", "cs", "ss", "ds", "fs", "gs"};
  return names[static_cast<int>(s)];
}

const char* access_name(Access a) {
  switch (a) {
    case Access::Read: return "read";
    case Access::Write: return "write";
    case Access::Fetch: return "fetch";
  }
  return "?";
}

namespace vec {
bool has_error_code(uint8_t v) {
  return v == DF || v == TS || v == NP || v == SS || v == GP || v == PF || v == AC || v == CP;
}
const char* mnemonic(uint8_t v) {
  static constexpr const char* names[] = {"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM",
                                          "#DF", "#09", "#TS", "#NP", "#SS", "#GP", "#PF", "#15",
                                          "#MF", "#AC", "#MC", "#XM", "#VE", "#CP"};
  return v < sizeof names / sizeof names[0] ? names[v] : "INT";
}
}  // namespace vec

}  // namespace hvsim
