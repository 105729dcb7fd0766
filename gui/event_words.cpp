#include "gui/event_words.hpp"

#include <cstdlib>
#include <map>
#include <sstream>

namespace hvsim::gui {
namespace {

std::map<std::string, std::string> parse_details(const std::string& details) {
  std::map<std::string, std::string> out;
  std::istringstream in(details);
  std::string item;
  while (in >> item) {
    auto eq = item.find('=');
    if (eq != std::string::npos) out[item.substr(0, eq)] = item.substr(eq + 1);
  }
  return out;
}

std::string get(const std::map<std::string, std::string>& m, const std::string& key) {
  auto it = m.find(key);
  return it == m.end() ? std::string() : it->second;
}

}  // namespace

std::string vector_name(unsigned vector) {
  static const std::map<unsigned, const char*> names = {
      {0, "#DE (divide error)"},        {1, "#DB (debug)"},           {2, "NMI"},
      {3, "#BP (breakpoint)"},          {4, "#OF (overflow)"},        {5, "#BR (bound range)"},
      {6, "#UD (invalid opcode)"},      {7, "#NM (no FPU)"},          {8, "#DF (double fault)"},
      {10, "#TS (invalid TSS)"},        {11, "#NP (segment not present)"}, {12, "#SS (stack fault)"},
      {13, "#GP (general protection)"}, {14, "#PF (page fault)"},     {16, "#MF (x87 error)"},
      {17, "#AC (alignment check)"},    {18, "#MC (machine check)"},  {19, "#XM (SIMD error)"}};
  auto it = names.find(vector);
  return it != names.end() ? it->second : "vector " + std::to_string(vector);
}

std::string event_in_words(const std::string& kind, const std::string& details) {
  const auto d = parse_details(details);
  const std::string vec = get(d, "vector");
  const unsigned v = vec.empty() ? 0 : static_cast<unsigned>(std::strtoul(vec.c_str(), nullptr, 0));
  if (kind == "exception") {
    std::string s = vector_name(v);
    if (!get(d, "error_code").empty()) s += ", error code " + get(d, "error_code");
    if (!get(d, "cr2").empty()) s += ", CR2 " + get(d, "cr2");
    return s + ": the guest's own fault, delivered to its handler through its IDT.";
  }
  if (kind == "interrupt") {
    return "Interrupt vector " + vec + " from a device (the timer), delivered through the guest's IDT because "
           "interrupts were enabled and the priority allowed it.";
  }
  if (kind == "software_interrupt") {
    return "INT " + vec + ": the guest called through its own IDT on purpose (the gate's DPL was checked).";
  }
  if (kind == "isolation") {
    std::string s = "The guest " + (get(d, "access").empty() ? std::string("accessed") : get(d, "access")) +
                    " guest-physical " + get(d, "gpa");
    if (!get(d, "va").empty()) s += " (linear " + get(d, "va") + ")";
    if (!get(d, "in").empty()) s += " during its own page walk";
    return s + ": nothing backs it, so it read all ones and no other guest's memory was reachable.";
  }
  if (kind.starts_with("exit ")) {
    std::string s = "VM exit, basic reason " + get(d, "reason") + " (" + kind.substr(5) +
                    "): the CPU left the guest for the hypervisor because its VMCS asked for this event";
    if (!get(d, "qualification").empty() && get(d, "qualification") != "0x0") {
      s += "; exit qualification " + get(d, "qualification");
    }
    if (!get(d, "instruction_length").empty()) s += "; the instruction is " + get(d, "instruction_length") + " bytes";
    if (!get(d, "interruption_info").empty()) s += "; interruption information " + get(d, "interruption_info");
    return s + ". The hypervisor handles it, then VM entry resumes the guest.";
  }
  if (kind.starts_with("callout ")) {
    const std::string k = kind.substr(8);
    std::string s = "Callout from the translation cache (TC " + get(d, "tc") + ") to the VMM: ";
    if (k == "Sensitive") {
      s += "the guest's " + get(d, "instruction") + " is sensitive, so the VMM emulates it on the virtual CPU";
    } else if (k == "ExitToGuest") {
      s += "a direct branch to guest code not translated yet; the VMM translates it and chains the stub, so "
           "the next time the branch stays in the cache";
    } else if (k == "Return" || k == "IndirectJump" || k == "IndirectCall") {
      s += "an indirect branch; its guest target is only known now, so the VMM looks up (or makes) its "
           "translation";
    } else {
      s += k;
    }
    return s + ".";
  }
  if (kind == "triple_fault") return "A fault while delivering a double fault: a real machine resets here.";
  if (kind == "exception_storm") return "Exceptions in a row without any instruction retiring: the run was ended.";
  if (kind == "halt_forever") return "HLT that nothing can end: interrupts disabled (IF = 0), or every interrupt that can still arrive held back by the TPR. The guest can never wake up.";
  return kind + (details.empty() ? "" : ": " + details);
}

}  // namespace hvsim::gui
