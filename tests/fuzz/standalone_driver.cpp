// The main() of a fuzz target built without libFuzzer (every build but the `fuzz` preset): it
// runs LLVMFuzzerTestOneInput once on each file named on the command line, or on each file of a
// named directory, so the corpus (every input that once crashed included) is replayed by the
// ordinary test run. A crash is the failure; there is nothing else to check.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

bool run_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", path.c_str());
    return false;
  }
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)),
                                std::istreambuf_iterator<char>());
  // Named before it runs: a crash leaves the culprit as the last line.
  std::fprintf(stderr, "input %s (%zu bytes)\n", path.c_str(), bytes.size());
  // A copy of exactly the input's size, so that AddressSanitizer sees reads past its end.
  std::vector<std::uint8_t> input(bytes.begin(), bytes.end());
  LLVMFuzzerTestOneInput(input.data(), input.size());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t inputs = 0;
  for (int i = 1; i < argc; ++i) {
    const std::filesystem::path arg(argv[i]);
    if (arg.string().starts_with("-")) continue;  // libFuzzer flags mean nothing here
    std::error_code error;
    if (std::filesystem::is_directory(arg, error)) {
      std::vector<std::filesystem::path> files;
      for (const auto& entry : std::filesystem::directory_iterator(arg)) {
        if (entry.is_regular_file()) files.push_back(entry.path());
      }
      std::sort(files.begin(), files.end());  // a stable order makes failures reproducible
      for (const auto& file : files) {
        if (!run_file(file)) return 1;
        ++inputs;
      }
    } else {
      if (!run_file(arg)) return 1;
      ++inputs;
    }
  }
  if (inputs == 0) {
    std::fprintf(stderr, "usage: %s <corpus file or directory>...\n", argv[0]);
    return 1;
  }
  std::printf("%s: %zu inputs replayed without a crash\n", argv[0], inputs);
  return 0;
}
