#include <doctest/doctest.h>

#include <stdlib.h>  // mkdtemp

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "app/initrd.hpp"

using namespace hvsim;
namespace fs = std::filesystem;

namespace {

std::vector<uint8_t> bytes(const std::string& s) { return {s.begin(), s.end()}; }

std::vector<InitrdFile> sample_files() {
  return {{"init", bytes("#!hello\n"), 0100755},
          {"etc/motd", bytes("hi"), 0100644},
          {"empty", {}, 0100600},
          {"four", bytes("1234"), 0100755}};
}

std::vector<uint8_t> sample_archive() { return pack_initrd(sample_files()).value(); }

// One file "hi" holding "abc": the header at 0, name at 110, data at 116, trailer at 120.
std::vector<uint8_t> tiny_archive() { return pack_initrd({{"hi", bytes("abc")}}).value(); }

constexpr size_t kFileSizeField = 6 + 8 * 6;
constexpr size_t kNameSizeField = 6 + 8 * 11;

void set_field(std::vector<uint8_t>& a, size_t at, const std::string& hex8) {
  std::copy(hex8.begin(), hex8.end(), a.begin() + at);
}

// For REQUIRE_MESSAGE: doctest evaluates the message even on success when run with -s.
template <typename T>
std::string why(const Result<T>& r) {
  return r ? std::string() : r.error().message;
}

std::string unpack_error(const std::vector<uint8_t>& a) {
  auto r = unpack_initrd(a);
  return r ? "(accepted)" : why(r);
}

std::string pack_error(const InitrdFile& f) {
  auto r = pack_initrd({f});
  return r ? "(accepted)" : why(r);
}

struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "hvsim-initrd-XXXXXX").string();
    path = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path write(const std::string& name, const std::vector<uint8_t>& data) const {
    fs::create_directories((path / name).parent_path());
    std::ofstream(path / name, std::ios::binary).write(reinterpret_cast<const char*>(data.data()), data.size());
    return path / name;
  }
};

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool have_cpio() { return std::system("command -v cpio >/dev/null 2>&1") == 0; }

}  // namespace

TEST_CASE("Initrd: pack then unpack gives the same files") {
  auto files = unpack_initrd(sample_archive());
  REQUIRE_MESSAGE(files.ok(), why(files));
  auto want = sample_files();
  REQUIRE(files->size() == want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    CHECK((*files)[i].name == want[i].name);
    CHECK((*files)[i].data == want[i].data);
    CHECK((*files)[i].mode == want[i].mode);
  }
}

TEST_CASE("Initrd: packing is deterministic and an empty list gives just the trailer") {
  CHECK(sample_archive() == sample_archive());
  auto empty = pack_initrd({});
  REQUIRE(empty.ok());
  CHECK(empty->size() == 124);
  auto files = unpack_initrd(*empty);
  REQUIRE(files.ok());
  CHECK(files->empty());
}

TEST_CASE("Initrd: a one-file archive has the exact newc layout") {
  std::string want =
      // magic   ino       mode      uid       gid       nlink     mtime
      "070701" "00000001" "000081ed" "00000000" "00000000" "00000001" "00000000"
      // filesize devmajor devminor  rdevmaj   rdevmin   namesize  check
      "00000003" "00000000" "00000000" "00000000" "00000000" "00000003" "00000000";
  want += std::string("hi\0" "\0\0\0", 6);  // 110 + 3 = 113, padded to 116
  want += std::string("abc\0", 4);          // data padded to 120
  want += "070701" "00000000" "00000000" "00000000" "00000000" "00000001" "00000000"
          "00000000" "00000000" "00000000" "00000000" "00000000" "0000000b" "00000000";
  want += std::string("TRAILER!!!\0" "\0\0\0", 14);  // 120 + 110 + 11 = 241, padded to 244
  CHECK(tiny_archive() == bytes(want));
}

TEST_CASE("Initrd: pack rejects bad names, modes and sizes, naming the file") {
  CHECK(pack_error({"", {}}) == "initrd: '': empty name");
  CHECK(pack_error({std::string("a\0b", 3), {}}).find("NUL") != std::string::npos);
  CHECK(pack_error({"..", {}}) == "initrd: '..': name contains a '..' component");
  CHECK(pack_error({"a/../b", {}}) == "initrd: 'a/../b': name contains a '..' component");
  CHECK(pack_error({"/init", {}}) == "initrd: '/init': name starts with '/'");
  CHECK(pack_error({"a//b", {}}).find("empty or '.' component") != std::string::npos);
  CHECK(pack_error({"./a", {}}).find("empty or '.' component") != std::string::npos);
  CHECK(pack_error({"a/", {}}).find("empty or '.' component") != std::string::npos);
  CHECK(pack_error({"TRAILER!!!", {}}) == "initrd: 'TRAILER!!!': name is the end-of-archive marker");
  CHECK(pack_error({std::string(255, 'n'), {}}) == "(accepted)");
  CHECK(pack_error({std::string(256, 'n'), {}}).find("longer than 255 bytes") != std::string::npos);
  CHECK(pack_error({"a..b", {}}) == "(accepted)");
  CHECK(pack_error({"dir", {}, 040755}) == "initrd: 'dir': mode is not a regular file's");
  CHECK(pack_error({"big", {}, 0300755}) == "initrd: 'big': mode is not a regular file's");

  auto dup = pack_initrd({{"init", {}}, {"x", {}}, {"init", {}}});
  REQUIRE_FALSE(dup.ok());
  CHECK(dup.error().message == "initrd: 'init': duplicate name");

  // The 4 GiB per-file limit would need a 4 GiB buffer to test; the archive limit is cheaper.
  auto huge = pack_initrd({{"small", bytes("x")}, {"huge", std::vector<uint8_t>(kInitrdMaxBytes)}});
  REQUIRE_FALSE(huge.ok());
  CHECK(huge.error().message == "initrd: 'huge': archive would exceed 256 MiB");
}

TEST_CASE("Initrd: unpack accepts uppercase hex and cpio's zero padding after the trailer") {
  auto a = tiny_archive();
  set_field(a, 6 + 8, "000081ED");
  a.resize(512, 0);
  auto files = unpack_initrd(a);
  REQUIRE_MESSAGE(files.ok(), why(files));
  CHECK((*files)[0].mode == 0100755);
}

TEST_CASE("Initrd: unpack rejects malformed archives with a precise message") {
  const std::string e0 = "initrd: entry 0: ";
  const std::string e0hi = "initrd: entry 0 'hi': ";
  CHECK(unpack_error({}) == "initrd: archive ends without a TRAILER!!! entry");

  auto a = tiny_archive();
  a[5] = '2';
  CHECK(unpack_error(a) == e0 + "bad magic (want 070701)");

  a = tiny_archive();
  a[kFileSizeField + 3] = 'g';
  CHECK(unpack_error(a) == e0 + "field filesize is not 8 hex digits");
  a = tiny_archive();
  a[kNameSizeField] = ' ';
  CHECK(unpack_error(a) == e0 + "field namesize is not 8 hex digits");

  a = tiny_archive();
  a.resize(109);
  CHECK(unpack_error(a) == e0 + "truncated header");
  a = tiny_archive();
  a.resize(120 + 50);
  CHECK(unpack_error(a) == "initrd: entry 1: truncated header");

  a = tiny_archive();
  a.resize(112);
  CHECK(unpack_error(a) == e0 + "name runs past the end of the archive");
  a = tiny_archive();
  a.resize(114);
  CHECK(unpack_error(a) == e0hi + "name padding runs past the end of the archive");

  a = tiny_archive();
  a.resize(118);
  CHECK(unpack_error(a) == e0hi + "data runs past the end of the archive");
  a = tiny_archive();
  a.resize(119);
  CHECK(unpack_error(a) == e0hi + "data padding runs past the end of the archive");

  a = tiny_archive();
  a.resize(120);
  CHECK(unpack_error(a) == "initrd: archive ends without a TRAILER!!! entry");

  a = tiny_archive();
  a.resize(1024, 0);
  a[700] = 1;
  CHECK(unpack_error(a) == "initrd: entry 1 'TRAILER!!!': non-zero byte at offset 700 after the trailer");

  for (auto [size, text] : {std::pair{"00000000", "0"}, {"00000001", "1"}, {"00000101", "257"}}) {
    a = tiny_archive();
    set_field(a, kNameSizeField, size);
    CHECK(unpack_error(a) == e0 + "namesize " + text + " is outside 2..256");
  }

  a = tiny_archive();
  a[112] = 'x';
  CHECK(unpack_error(a) == e0 + "name is not NUL-terminated");
  a = tiny_archive();
  a[110] = 0;
  CHECK(unpack_error(a) == e0 + "name contains a NUL byte");

  a = tiny_archive();
  a[113] = 7;
  CHECK(unpack_error(a) == e0hi + "name padding is not zero");
  a = tiny_archive();
  a[119] = 7;
  CHECK(unpack_error(a) == e0hi + "data padding is not zero");

  a = tiny_archive();
  set_field(a, kFileSizeField, "ffffffff");
  CHECK(unpack_error(a) == e0hi + "data runs past the end of the archive");

  a = tiny_archive();
  set_field(a, 120 + kFileSizeField, "00000004");
  a.resize(1024, 0);
  CHECK(unpack_error(a) == "initrd: entry 1 'TRAILER!!!': trailer has data");
}

TEST_CASE("Initrd: fuzzed archives are rejected cleanly or parsed, never crash") {
  // Fixed seed and raw mt19937 output (its sequence is standardised), so failures reproduce.
  std::mt19937 rng(20240607);
  const auto base = sample_archive();
  std::vector<size_t> entries{0};  // header offsets, so field rewrites hit real fields
  for (const auto& f : sample_files())
    entries.push_back(entries.back() + ((110 + f.name.size() + 1 + 3) & ~3u) + ((f.data.size() + 3) & ~3u));
  const char* interesting[] = {"00000000", "00000001", "00000002", "7fffffff", "80000000", "ffffffff",
                               "00000100", "00000101", "0000000b", "fffffff0"};
  auto start = std::chrono::steady_clock::now();
  int accepted = 0, rejected = 0;
  for (int n = 0; n < 5000; ++n) {
    auto a = base;
    for (int m = 0, count = 1 + rng() % 3; m < count && !a.empty(); ++m) {
      switch (rng() % 6) {
        case 0: a[rng() % a.size()] = static_cast<uint8_t>(rng()); break;
        case 1: a[rng() % a.size()] = "0123456789abcdefABCDEFg/.\0"[rng() % 26]; break;
        case 2: a.resize(rng() % a.size()); break;
        case 3: a.erase(a.begin() + rng() % a.size()); break;
        case 4: a.insert(a.begin() + rng() % (a.size() + 1), static_cast<uint8_t>(rng() % 2 ? 0 : rng())); break;
        case 5: {
          size_t at = entries[rng() % entries.size()] + 6 + 8 * (rng() % 13);
          if (at + 8 <= a.size()) set_field(a, at, interesting[rng() % std::size(interesting)]);
        }
      }
    }
    auto r = unpack_initrd(a);
    if (!r.ok()) {
      ++rejected;
      if (r.error().message.rfind("initrd:", 0) != 0) FAIL_CHECK("case " << n << ": " << r.error().message);
      continue;
    }
    ++accepted;
    // Whatever the parser accepts and the packer allows must survive another round trip.
    if (auto again = pack_initrd(*r); again.ok()) {
      auto back = unpack_initrd(*again);
      REQUIRE(back.ok());
      CHECK(back->size() == r->size());
    }
  }
  CHECK(accepted > 0);
  CHECK(rejected > 0);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(3));
}

TEST_CASE("Initrd: files from host paths use the base name and reject what cannot be read") {
  TempDir dir;
  auto init = dir.write("bin/init", bytes("payload"));
  auto files = initrd_files_from_paths({init.string()});
  REQUIRE_MESSAGE(files.ok(), why(files));
  REQUIRE(files->size() == 1);
  CHECK((*files)[0].name == "init");
  CHECK((*files)[0].data == bytes("payload"));
  CHECK((*files)[0].mode == 0100755);

  auto missing = (dir.path / "nope").string();
  auto r = initrd_files_from_paths({missing});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message == "initrd: '" + missing + "': no such file");

  r = initrd_files_from_paths({(dir.path / "bin").string()});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message == "initrd: '" + (dir.path / "bin").string() + "': not a regular file");

  auto other = dir.write("sbin/init", bytes("x"));
  r = initrd_files_from_paths({init.string(), other.string()});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message ==
        "initrd: '" + other.string() + "': same archive name 'init' as '" + init.string() + "'");

  auto big = dir.write("big", {});
  fs::resize_file(big, kInitrdMaxBytes + 1);  // sparse: costs no disk and is never read
  r = initrd_files_from_paths({big.string()});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message == "initrd: '" + big.string() + "': larger than 256 MiB");
}

TEST_CASE("Initrd: GNU cpio lists and extracts packed archives, and its archives unpack") {
  if (!have_cpio()) {
    MESSAGE("cpio not installed (apt-get install cpio): skipping the interop check");
    return;
  }
  TempDir dir;
  auto archive = dir.write("ours.cpio", sample_archive());
  auto listed = dir.path / "listed.txt";
  auto extracted = dir.path / "extracted.bin";
  std::string in = " < '" + archive.string() + "'";
  REQUIRE(std::system(("cpio -t --quiet" + in + " > '" + listed.string() + "'").c_str()) == 0);
  REQUIRE(std::system(("cpio -i --to-stdout --quiet" + in + " > '" + extracted.string() + "'").c_str()) == 0);
  std::string want_list, want_data;
  for (const auto& f : sample_files()) {
    want_list += f.name + "\n";
    want_data += std::string(f.data.begin(), f.data.end());
  }
  CHECK(read_text(listed) == want_list);
  CHECK(read_text(extracted) == want_data);

  dir.write("src/a", bytes("alpha"));
  dir.write("src/sub/b", bytes("be"));
  auto theirs = dir.path / "theirs.cpio";
  std::string cmd = "cd '" + (dir.path / "src").string() + "' && printf 'a\\nsub/b\\n' | cpio -o -H newc --quiet > '" +
                    theirs.string() + "'";
  REQUIRE(std::system(cmd.c_str()) == 0);
  auto text = read_text(theirs);
  auto files = unpack_initrd(bytes(text));
  REQUIRE_MESSAGE(files.ok(), why(files));
  REQUIRE(files->size() == 2);
  CHECK((*files)[0].name == "a");
  CHECK((*files)[0].data == bytes("alpha"));
  CHECK((*files)[1].name == "sub/b");
  CHECK((*files)[1].data == bytes("be"));
}
