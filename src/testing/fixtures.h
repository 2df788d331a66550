// Test fixtures: committed compressed (.xz) under tests/data, decompressed once into the build tree.
#pragma once

#include <string>

namespace g4::testing {

// Path of tests/data/<rel>. If only <rel>.xz is committed, it is decompressed into the build directory
// on first use and that path is returned.
std::string fixture(const std::string& rel);

// An HF folder for tests/data/<dir> (config.json + decompressed model.safetensors).
std::string hf_fixture_dir(const std::string& dir);

}  // namespace g4::testing
