#include "app/machine_builder.hpp"

#include <filesystem>
#include <fstream>

#include "core/vm/elf_loader.hpp"
#include "core/vm/flat_loader.hpp"
#include "hwassist/vtx_engine.hpp"
#include "translator/bt_engine.hpp"

namespace hvsim {

Result<std::vector<uint8_t>> read_file(const std::string& path, uint64_t max_bytes) {
  std::error_code ec;
  auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status)) return make_error("cannot open '" + path + "': no such file");
  if (!std::filesystem::is_regular_file(status)) return make_error("'" + path + "' is not a regular file");
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return make_error("cannot open '" + path + "'");
  auto size = static_cast<uint64_t>(in.tellg());
  if (size > max_bytes) {
    return make_error("'" + path + "' is " + std::to_string(size) + " bytes; the limit is " +
                      std::to_string(max_bytes));
  }
  std::vector<uint8_t> data(size);
  in.seekg(0);
  if (size && !in.read(reinterpret_cast<char*>(data.data()), static_cast<std::streamsize>(size))) {
    return make_error("cannot read '" + path + "'");
  }
  return data;
}

uint64_t machine_bytes_for(uint64_t ram_bytes) { return ram_bytes + (16ull << 20); }

Result<std::unique_ptr<Machine>> build_machine(const MachineOptions& opt, const std::vector<uint8_t>& image,
                                               const std::vector<uint8_t>& initrd) {
  auto pool = std::make_unique<MachineMemory>(machine_bytes_for(opt.ram_bytes));
  std::unique_ptr<EventLog> log;
  if (opt.log_path.empty()) {
    log = std::make_unique<EventLog>();
  } else {
    auto opened = EventLog::open(opt.log_path);
    if (!opened) return opened.error();
    log = std::move(*opened);
  }
  auto m = build_guest(*pool, *log, opt, image, initrd);
  if (!m) return m.error();
  (*m)->machine = std::move(pool);
  (*m)->log = std::move(log);
  return m;
}

Result<std::unique_ptr<Machine>> build_guest(MachineMemory& pool, EventLog& log, const MachineOptions& opt,
                                             const std::vector<uint8_t>& image, const std::vector<uint8_t>& initrd) {
  auto m = std::make_unique<Machine>();
  VmConfig cfg;
  cfg.name = opt.name;
  cfg.ram_bytes = opt.ram_bytes;
  cfg.max_instructions = opt.max_instructions;
  cfg.paging = opt.paging;
  cfg.ept_page = opt.ept_page;
  std::optional<vmx::Preset> preset;
  if (opt.engine == "vtx") {
    const std::string name = opt.preset.empty() ? "vtx-ept" : opt.preset;
    preset = vmx::preset(name);
    if (!preset) return make_error("unknown vtx preset '" + name + "' (vtx-2006 or vtx-ept)");
    if (opt.paging_given && opt.paging == PagingMode::Native) {
      return make_error("the vtx engine virtualizes memory: --paging ept or shadow");
    }
    if (opt.paging_given) vmx::use_paging(*preset, opt.paging);
    cfg.paging = preset->paging;
  } else if (opt.engine == "bt") {
    if (!opt.preset.empty()) return make_error("--preset belongs to the vtx engine");
    // Adams & Agesen's software VMM virtualizes memory with shadow page tables.
    cfg.paging = opt.paging_given ? opt.paging : PagingMode::Shadow;
  } else if (opt.engine != "native") {
    return make_error("unknown engine '" + opt.engine + "' (native, bt or vtx)");
  } else if (!opt.preset.empty()) {
    return make_error("--preset belongs to the vtx engine");
  }
  auto vm = Vm::create(pool, cfg, log);
  if (!vm) return vm.error();
  m->vm = std::move(*vm);
  m->uart = std::make_unique<Uart16550>(*m->vm);
  m->debug_exit = std::make_unique<DebugExit>(*m->vm);
  m->timer = std::make_unique<IntervalTimer>(*m->vm);
  m->ports.attach(0x3f8, 8, *m->uart);
  m->ports.attach(0xf4, 4, *m->debug_exit);
  m->ports.attach(0xf0, 4, *m->timer, 0);
  m->ports.attach(0xf8, 1, *m->timer, 8);
  m->vm->set_port_io(m->ports);
  auto add_apic = [&]() -> Result<void> {
    m->apic = std::make_unique<LocalApic>(*m->vm);
    if (auto r = m->vm->map_mmio(kLocalApicBase, kLocalApicSize, *m->apic); !r) return r.error();
    m->vm->set_interrupt_controller(*m->apic);
    return {};
  };
  if (opt.kernel_path.empty()) {
    if (opt.flat_apic) {
      if (auto r = add_apic(); !r) return r.error();
    }
    if (auto r = load_flat_guest(*m->vm, image); !r) return r.error();
  } else {
    if (auto r = add_apic(); !r) return r.error();
    KernelBoot boot;
    boot.initrd = initrd;
    boot.cmdline = opt.cmdline;
    boot.devices = {{HVSIM_DEVICE_UART16550, 0x3f8, 8, 0},
                    {HVSIM_DEVICE_DEBUG_EXIT, 0xf4, 1, 0},
                    {HVSIM_DEVICE_TEST_TIMER, 0xf0, 9, 0},
                    {HVSIM_DEVICE_LOCAL_APIC, kLocalApicBase, kLocalApicSize, 0}};
    if (auto r = load_elf_kernel(*m->vm, image, boot); !r) return r.error();
  }
  if (opt.engine == "bt") {
    auto engine = bt::BtEngine::create(*m->vm);
    if (!engine) return engine.error();
    m->vm->set_engine(**engine);
    m->engine = std::move(*engine);
  }
  if (preset) {
    auto engine = vmx::VtxEngine::create(std::move(*preset));
    if (!engine) return engine.error();
    if (auto entered = (*engine)->enter(*m->vm); !entered) return entered.error();
    m->vm->set_engine(**engine);
    m->engine = std::move(*engine);
  }
  return m;
}

}  // namespace hvsim
