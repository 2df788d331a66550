#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "text/builtin_template.h"

namespace g4 {
namespace {

// The embedded template is the committed file, byte for byte (CMake substitution must not alter it).
TEST(BuiltinTemplate, IsTheOfficialTemplateVerbatim) {
  std::ifstream f(std::string(G4_SOURCE_DIR) + "/src/text/builtin/gemma4_chat_template.jinja", std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  ASSERT_FALSE(ss.str().empty());
  EXPECT_EQ(builtin_gemma4_chat_template(), ss.str());
}

}  // namespace
}  // namespace g4
