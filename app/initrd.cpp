#include "app/initrd.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

namespace hvsim {

namespace {

constexpr char kMagic[] = "070701";
constexpr char kTrailer[] = "TRAILER!!!";
constexpr size_t kHeaderSize = 110;  // magic + 13 fields of 8 hex digits
constexpr size_t kMaxNameSize = 256;  // including the NUL
enum Field { kIno, kMode, kUid, kGid, kNlink, kMtime, kFileSize, kDevMajor, kDevMinor, kRdevMajor,
             kRdevMinor, kNameSize, kCheck, kFieldCount };
constexpr const char* kFieldNames[kFieldCount] = {"ino", "mode", "uid", "gid", "nlink", "mtime", "filesize",
                                                  "devmajor", "devminor", "rdevmajor", "rdevminor", "namesize",
                                                  "check"};

size_t pad4(size_t n) { return (n + 3) & ~size_t{3}; }

void put_entry(std::vector<uint8_t>& out, uint32_t ino, uint32_t mode, const std::string& name,
               const std::vector<uint8_t>& data) {
  uint32_t fields[kFieldCount] = {};
  fields[kIno] = ino;
  fields[kMode] = mode;
  fields[kNlink] = 1;
  fields[kFileSize] = static_cast<uint32_t>(data.size());
  fields[kNameSize] = static_cast<uint32_t>(name.size() + 1);
  out.insert(out.end(), kMagic, kMagic + 6);
  for (uint32_t f : fields) {
    char hex[9];
    std::snprintf(hex, sizeof hex, "%08x", static_cast<unsigned>(f));
    out.insert(out.end(), hex, hex + 8);
  }
  out.insert(out.end(), name.begin(), name.end());
  out.push_back(0);
  out.resize(pad4(out.size()), 0);  // every entry starts 4-aligned, so this pads header + name
  out.insert(out.end(), data.begin(), data.end());
  out.resize(pad4(out.size()), 0);
}

// Empty means valid.  Names are flat relative paths the kernel can use as-is: no component
// may climb out ("..") or alias another name (".", "", "a//b" vs "a/b").
std::string name_problem(const std::string& name) {
  if (name.empty()) return "empty name";
  if (name.size() > kMaxNameSize - 1) return "name longer than 255 bytes";
  if (name.find('\0') != std::string::npos) return "name contains a NUL byte";
  if (name.front() == '/') return "name starts with '/'";
  if (name == kTrailer) return "name is the end-of-archive marker";
  for (size_t start = 0; start <= name.size();) {
    size_t end = std::min(name.find('/', start), name.size());
    std::string part = name.substr(start, end - start);
    if (part == "..") return "name contains a '..' component";
    if (part.empty() || part == ".") return "name contains an empty or '.' component";
    start = end + 1;
  }
  return {};
}

bool parse_hex8(const uint8_t* p, uint32_t& value) {
  value = 0;
  for (int i = 0; i < 8; ++i) {
    uint8_t c = p[i];
    uint32_t digit;
    if (c >= '0' && c <= '9') digit = c - '0';
    else if (c >= 'a' && c <= 'f') digit = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') digit = c - 'A' + 10;
    else return false;
    value = value << 4 | digit;
  }
  return true;
}

// Moves `off` to the next 4-byte boundary; returns the problem, or nullptr.
const char* skip_padding(const std::vector<uint8_t>& a, size_t& off) {
  size_t end = pad4(off);
  if (end > a.size()) return "padding runs past the end of the archive";
  for (; off < end; ++off)
    if (a[off] != 0) return "padding is not zero";
  return nullptr;
}

}  // namespace

Result<std::vector<uint8_t>> pack_initrd(const std::vector<InitrdFile>& files) {
  std::set<std::string> seen;
  uint64_t total = pad4(kHeaderSize + sizeof kTrailer);
  for (const InitrdFile& f : files) {
    auto fail = [&](const std::string& why) { return make_error("initrd: '" + f.name + "': " + why); };
    if (std::string why = name_problem(f.name); !why.empty()) return fail(why);
    if (!seen.insert(f.name).second) return fail("duplicate name");
    if ((f.mode & ~0177777u) != 0 || (f.mode & 0170000) != 0100000) return fail("mode is not a regular file's");
    if (f.data.size() > UINT32_MAX) return fail("larger than 4 GiB");
    total += pad4(kHeaderSize + f.name.size() + 1) + pad4(f.data.size());
    if (total > kInitrdMaxBytes) return fail("archive would exceed 256 MiB");
  }
  std::vector<uint8_t> out;
  out.reserve(total);
  for (size_t i = 0; i < files.size(); ++i)
    put_entry(out, static_cast<uint32_t>(i + 1), files[i].mode, files[i].name, files[i].data);
  put_entry(out, 0, 0, kTrailer, {});
  return out;
}

// The parser's rules, in order, for each entry starting at offset `off` (a multiple of 4):
//  1. 110 header bytes remain; the first 6 are "070701"; each of the 13 fields is exactly
//     8 hex digits (either case).  Only mode, filesize and namesize are used; the rest
//     (ino, nlink, mtime, check, ...) are ignored, so hard links are not recognised.
//  2. 2 <= namesize <= 256, namesize counting the NUL; the name's namesize bytes lie inside
//     the archive, the last one is NUL and no other one is.
//  3. Zero bytes pad header + name to a multiple of 4, inside the archive.
//  4. If the name is "TRAILER!!!": its filesize is 0 and every remaining byte is zero
//     (cpio pads archives to 512 bytes); the archive ends here.
//  5. Otherwise filesize bytes of data lie inside the archive, followed by zero padding to a
//     multiple of 4 inside the archive; the entry becomes a file and the next entry follows.
// Reaching the end of the archive before a trailer is an error.  Bounds are compared as
// "length > bytes remaining", which cannot overflow.  Entries are numbered from 0 in errors.
Result<std::vector<InitrdFile>> unpack_initrd(const std::vector<uint8_t>& a) {
  std::vector<InitrdFile> files;
  size_t off = 0;
  for (size_t index = 0;; ++index) {
    std::string where = "initrd: entry " + std::to_string(index);
    auto fail = [&](const std::string& why) { return make_error(where + ": " + why); };
    if (off == a.size()) return make_error("initrd: archive ends without a TRAILER!!! entry");
    if (a.size() - off < kHeaderSize) return fail("truncated header");
    const uint8_t* header = a.data() + off;
    if (std::memcmp(header, kMagic, 6) != 0) return fail("bad magic (want 070701)");
    uint32_t fields[kFieldCount];
    for (int i = 0; i < kFieldCount; ++i)
      if (!parse_hex8(header + 6 + 8 * i, fields[i]))
        return fail(std::string("field ") + kFieldNames[i] + " is not 8 hex digits");
    off += kHeaderSize;

    uint32_t namesize = fields[kNameSize];
    if (namesize < 2 || namesize > kMaxNameSize)
      return fail("namesize " + std::to_string(namesize) + " is outside 2..256");
    if (namesize > a.size() - off) return fail("name runs past the end of the archive");
    const char* name = reinterpret_cast<const char*>(a.data() + off);
    if (name[namesize - 1] != '\0') return fail("name is not NUL-terminated");
    if (std::memchr(name, 0, namesize - 1) != nullptr) return fail("name contains a NUL byte");
    InitrdFile file{std::string(name, namesize - 1), {}, fields[kMode]};
    where += " '" + file.name + "'";
    off += namesize;
    if (const char* why = skip_padding(a, off)) return fail(std::string("name ") + why);

    uint32_t filesize = fields[kFileSize];
    if (file.name == kTrailer) {
      if (filesize != 0) return fail("trailer has data");
      for (; off < a.size(); ++off)
        if (a[off] != 0) return fail("non-zero byte at offset " + std::to_string(off) + " after the trailer");
      return files;
    }
    if (filesize > a.size() - off) return fail("data runs past the end of the archive");
    file.data.assign(a.begin() + off, a.begin() + off + filesize);
    off += filesize;
    if (const char* why = skip_padding(a, off)) return fail(std::string("data ") + why);
    files.push_back(std::move(file));
  }
}

Result<std::vector<InitrdFile>> initrd_files_from_paths(const std::vector<std::string>& paths) {
  namespace fs = std::filesystem;
  std::vector<InitrdFile> files;
  std::map<std::string, std::string> by_name;  // archive name -> host path
  for (const std::string& path : paths) {
    auto fail = [&](const std::string& why) { return make_error("initrd: '" + path + "': " + why); };
    std::error_code ec;
    fs::file_status st = fs::status(path, ec);  // follows symlinks: a link to a file is fine
    if (st.type() == fs::file_type::not_found) return fail("no such file");
    if (ec) return fail(ec.message());
    if (!fs::is_regular_file(st)) return fail("not a regular file");
    uintmax_t size = fs::file_size(path, ec);
    if (ec) return fail("cannot read size: " + ec.message());
    if (size > kInitrdMaxBytes) return fail("larger than 256 MiB");
    InitrdFile file;
    file.name = fs::path(path).filename().string();
    // Caught here too, so the error names both host paths rather than only the archive name.
    if (auto it = by_name.find(file.name); it != by_name.end())
      return fail("same archive name '" + file.name + "' as '" + it->second + "'");
    by_name[file.name] = path;
    file.data.resize(size);
    std::ifstream in(path, std::ios::binary);
    if (!in.read(reinterpret_cast<char*>(file.data.data()), static_cast<std::streamsize>(size)) ||
        in.peek() != std::ifstream::traits_type::eof())
      return fail("read failed or the file changed while reading");
    files.push_back(std::move(file));
  }
  return files;
}

}  // namespace hvsim
