# Turns one file into a C++ source that returns its bytes: cmake -DIN=file -DOUT=file.cc -DSYMBOL=name -P embed.cmake
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" n)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n" bytes "${bytes}")
file(WRITE "${OUT}.tmp" "// Generated from ${IN}; do not edit.\n#include <string_view>\nnamespace g4::embedded {\nnamespace { const unsigned char data[] = {\n${bytes}0x00};\n}\nstd::string_view ${SYMBOL}() { return {reinterpret_cast<const char*>(data), sizeof data - 1}; }\n}  // namespace g4::embedded\n")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
