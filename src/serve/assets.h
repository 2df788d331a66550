// Files built into the binary: the web UI page and the OpenAPI document of the server's API.
// Their sources are src/serve/webui/index.html and docs/openapi.json (CMake embeds them).
#pragma once

#include <string_view>

namespace g4::embedded {

std::string_view webui_html();
std::string_view openapi_json();

}  // namespace g4::embedded
