// The official Gemma 4 chat template, compiled into g4 for models that ship none.
#pragma once

#include <string_view>

namespace g4 {

std::string_view builtin_gemma4_chat_template();

}  // namespace g4
