#pragma once
// The guest kernel's initrd: a cpio "newc" archive (the format of Linux's initramfs), flat,
// regular files only.  The guest kernel parses it with the same rules as unpack_initrd.
#include <cstdint>
#include <string>
#include <vector>

#include "core/util/result.hpp"

namespace hvsim {

struct InitrdFile {
  std::string name;
  std::vector<uint8_t> data;
  uint32_t mode = 0100755;
};

// The archive must fit in the guest's initrd region, so it is capped well below what cpio allows.
inline constexpr uint64_t kInitrdMaxBytes = 256ull << 20;

// Deterministic: the same files give the same bytes (mtime/uid/gid 0, ino = index + 1).
Result<std::vector<uint8_t>> pack_initrd(const std::vector<InitrdFile>& files);

// Strict (the rules are listed in initrd.cpp): any violation is an error whose message starts
// with "initrd:" and names the entry.  Names are not re-validated and non-regular entries (a
// directory from `cpio -o`) come back as they are; callers decide what to do with them.
Result<std::vector<InitrdFile>> unpack_initrd(const std::vector<uint8_t>& archive);

// Reads host files; each is named in the archive by its base name and keeps the default mode,
// so the archive does not depend on the host's permission bits.
Result<std::vector<InitrdFile>> initrd_files_from_paths(const std::vector<std::string>& paths);

}  // namespace hvsim
