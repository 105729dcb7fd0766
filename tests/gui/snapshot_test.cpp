#include <doctest/doctest.h>

#include <cstring>
#include <string>

#include "gui/concepts.hpp"
#include "gui/event_words.hpp"
#include "gui/screenshot.hpp"
#include "gui/snapshot.hpp"
#include "gui/view_id.hpp"

using namespace hvsim;
using namespace hvsim::gui;

TEST_CASE("Snapshot: the registers that changed are named") {
  RegisterFile a, b;
  b.gpr[0] = 1;  // rax
  b.rip = 0x1000;
  b.cpl = 3;
  const auto changed = changed_registers(a, b);
  REQUIRE(changed.size() == 3);
  CHECK(std::string(changed[0]) == "rax");
  CHECK(std::string(changed[1]) == "rip");
  CHECK(std::string(changed[2]) == "cpl");
  CHECK(changed_registers(b, b).empty());
}

TEST_CASE("Snapshot: a snapshot without progress keeps showing what the last step changed") {
  RegisterTrail trail;
  GuestSnapshot g;
  g.regs.rip = 0x100;
  trail.update(0, g);
  CHECK_FALSE(g.has_prev);  // nothing to compare with yet
  g.regs.rip = 0x104;
  trail.update(0, g);
  CHECK(g.has_prev);
  CHECK(g.prev_regs.rip == 0x100);
  trail.update(0, g);  // the same registers again (the trainer picked another address)
  CHECK(g.has_prev);
  CHECK(g.prev_regs.rip == 0x100);
}

TEST_CASE("Concepts: every tooltip is one or two sentences, and event kinds have theirs") {
  for (const Concept& c : all_concepts()) {
    CAPTURE(c.key);
    size_t sentences = 0;
    for (size_t i = 0; i < c.text.size(); ++i) {
      if (c.text[i] == '.' && (i + 1 == c.text.size() || c.text[i + 1] == ' ')) ++sentences;
    }
    CHECK(sentences >= 1);
    CHECK(sentences <= 2);
    CHECK(c.text.size() < 300);
  }
  CHECK(find_concept("ept_violation"));
  CHECK(find_concept("hidden_fault"));
  CHECK(find_concept("trap_point"));
  CHECK(concept_for_event("isolation") == find_concept("isolation"));
  CHECK_FALSE(find_concept("no such concept"));
}

TEST_CASE("EventWords: records are told in words") {
  CHECK(event_in_words("exception", "cpl=0 error_code=0x2 name=#PF vector=14")
            .rfind("#PF (page fault), error code 0x2", 0) == 0);
  CHECK(event_in_words("isolation", "access=read gpa=0x4000000 va=0x4000000").find("nothing backs it") !=
        std::string::npos);
  CHECK(event_in_words("interrupt", "vector=32").find("vector 32") != std::string::npos);
  const std::string exit = event_in_words("exit I/O instruction",
                                          "instruction_length=2 name=I/O instruction qualification=0x3f80008 reason=30");
  CHECK(exit.rfind("VM exit, basic reason 30 (I/O instruction)", 0) == 0);
  CHECK(exit.find("exit qualification 0x3f80008") != std::string::npos);
  CHECK(exit.find("2 bytes") != std::string::npos);
  CHECK(event_in_words("callout Sensitive", "instruction=POPF kind=Sensitive tc=0xffffffffff000010")
            .find("the guest's POPF is sensitive") != std::string::npos);
  CHECK(event_in_words("callout Return", "kind=Return tc=0xffffffffff000010").find("indirect branch") !=
        std::string::npos);
  CHECK(concept_for_event("exit HLT") == find_concept("vm_exit"));
  CHECK(concept_for_event("callout Return") == find_concept("callout"));
  CHECK(event_in_words("something_new", "a=1") == "something_new: a=1");
  CHECK(vector_name(99) == "vector 99");
}

TEST_CASE("Views: every view has a name --view accepts") {
  for (ViewId v : kAllViews) CHECK(parse_view(view_name(v)) == v);
  CHECK_FALSE(parse_view("flamegraph"));
}

TEST_CASE("Screenshot: rows are flipped and a blank image is told from a drawn one") {
  std::vector<uint8_t> img(2 * 3 * 4, 0);
  img[0] = 1;                 // row 0
  img[2 * 2 * 4] = 3;         // row 2
  flip_rows(img, 2, 3);
  CHECK(img[0] == 3);
  CHECK(img[2 * 2 * 4] == 1);
  const ImageStats blank = image_stats(std::vector<uint8_t>(16 * 16 * 4, 7), 16, 16);
  CHECK(blank.distinct_colors == 1);
  CHECK(blank.dominant_share == doctest::Approx(1.0));
  std::vector<uint8_t> drawn(16 * 16 * 4, 0);
  for (size_t i = 0; i < drawn.size(); i += 4) drawn[i] = static_cast<uint8_t>(i / 4);
  CHECK(image_stats(drawn, 16, 16).distinct_colors == 256);
}
