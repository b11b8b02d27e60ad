// The brotli library, the one file that includes it: br bodies decoded
// under DecodingBody, and brotli_compress for the test server's /br route.
#include <brotli/decode.h>
#include <brotli/encode.h>

#include <cstdint>
#include <stdexcept>

#include "compress.hpp"
#include "decoding_body.hpp"

namespace coring::http::detail {

namespace {

/// br (RFC 7932), with the brotli library.
class BrotliBody final : public DecodingBody {
 public:
  BrotliBody(std::unique_ptr<BodySource> inner, const URL& url, std::size_t max_size)
      : DecodingBody(std::move(inner), "br", url, max_size),
        state_(BrotliDecoderCreateInstance(nullptr, nullptr, nullptr)) {
    if (state_ == nullptr) throw std::bad_alloc();
  }

 private:
  struct Destroy {
    void operator()(BrotliDecoderState* state) const noexcept { BrotliDecoderDestroyInstance(state); }
  };

  std::size_t decode(std::string_view in, std::string& out) override {
    auto next_in = reinterpret_cast<const std::uint8_t*>(in.data());
    std::size_t available_in = in.size();
    std::uint8_t buffer[16384];
    const std::size_t out_before = out.size();
    while (!finished_ && out.size() - out_before < output_per_call) {
      std::uint8_t* next_out = buffer;
      std::size_t available_out = sizeof buffer;
      const BrotliDecoderResult rc =
          BrotliDecoderDecompressStream(state_.get(), &available_in, &next_in, &available_out, &next_out, nullptr);
      if (rc == BROTLI_DECODER_RESULT_ERROR) {
        std::string_view why = BrotliDecoderErrorString(BrotliDecoderGetErrorCode(state_.get()));
        while (why.starts_with('_')) why.remove_prefix(1);  // "_ERROR_FORMAT_..."
        bad_data(why);
      }
      emit(out, reinterpret_cast<const char*>(buffer), sizeof buffer - available_out);
      if (rc == BROTLI_DECODER_RESULT_SUCCESS) finished_ = true;
      if (rc == BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT) break;  // all of `in` is taken
      // NEEDS_MORE_OUTPUT: round again with an empty buffer.
    }
    return finished_ ? in.size() : in.size() - available_in;
  }

  [[nodiscard]] bool finished() const noexcept override { return finished_; }
  [[nodiscard]] bool has_output() const noexcept override { return BrotliDecoderHasMoreOutput(state_.get()) != 0; }

  std::unique_ptr<BrotliDecoderState, Destroy> state_;
  bool finished_ = false;
};

}  // namespace

std::unique_ptr<BodySource> brotli_body(std::unique_ptr<BodySource> inner, const URL& url, std::size_t max_size) {
  return std::make_unique<BrotliBody>(std::move(inner), url, max_size);
}

std::string brotli_compress(std::string_view data) {
  std::string out(BrotliEncoderMaxCompressedSize(data.size()), '\0');
  std::size_t size = out.size();
  if (BrotliEncoderCompress(BROTLI_DEFAULT_QUALITY, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_GENERIC, data.size(),
                            reinterpret_cast<const std::uint8_t*>(data.data()), &size,
                            reinterpret_cast<std::uint8_t*>(out.data())) == BROTLI_FALSE)
    throw std::runtime_error("brotli: BrotliEncoderCompress failed");
  out.resize(size);
  return out;
}

}  // namespace coring::http::detail
