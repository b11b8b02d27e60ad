// zlib, the one file that includes it: gzip and deflate bodies decoded
// under DecodingBody, and gzip_compress for the test server's routes.
#include <zlib.h>

#include <string>

#include "coring/http/errors.hpp"
#include "compress.hpp"
#include "decoding_body.hpp"

namespace coring::http::detail {

namespace {

/// gzip and deflate, with zlib.
class InflatingBody final : public DecodingBody {
 public:
  InflatingBody(std::unique_ptr<BodySource> inner, bool gzip, const URL& url, std::size_t max_size)
      : DecodingBody(std::move(inner), gzip ? "gzip" : "deflate", url, max_size), gzip_(gzip) {
    init(gzip ? 16 + MAX_WBITS : MAX_WBITS);
  }
  ~InflatingBody() override { inflateEnd(&stream_); }
  InflatingBody(const InflatingBody&) = delete;
  InflatingBody& operator=(const InflatingBody&) = delete;

 private:
  void init(int window_bits) {
    stream_ = z_stream{};
    if (inflateInit2(&stream_, window_bits) != Z_OK) throw ClientPayloadError("zlib: inflateInit2 failed");
  }

  std::size_t decode(std::string_view in, std::string& out) override {
    if (stream_end_) {
      // After a gzip member, another may follow (RFC 1952 section 2.2; gzip
      // -c a b > c makes one): decoded too, as zlib's gunzip and curl do.
      // Anything else after the end is ignored.
      if (!gzip_ || in.empty() || in.front() != '\x1f' || inflateReset(&stream_) != Z_OK) return in.size();
      stream_end_ = false;
    }
    stream_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    stream_.avail_in = static_cast<uInt>(in.size());
    char buffer[16384];
    const std::size_t out_before = out.size();
    while ((stream_.avail_in > 0 || output_waiting_) && !stream_end_ && out.size() - out_before < output_per_call) {
      stream_.next_out = reinterpret_cast<Bytef*>(buffer);
      stream_.avail_out = sizeof buffer;
      const int rc = inflate(&stream_, Z_NO_FLUSH);
      if (rc == Z_DATA_ERROR && !gzip_ && !tried_raw_ && stream_.total_in <= in.size()) {
        // Some servers send "deflate" without its zlib header: raw deflate.
        tried_raw_ = true;
        inflateEnd(&stream_);
        init(-MAX_WBITS);
        stream_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
        stream_.avail_in = static_cast<uInt>(in.size());
        continue;
      }
      if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) bad_data(stream_.msg ? stream_.msg : "zlib error");
      emit(out, buffer, sizeof buffer - stream_.avail_out);
      // A full buffer: more may wait in zlib's window, even with no input left.
      output_waiting_ = stream_.avail_out == 0;
      if (rc == Z_STREAM_END) {
        stream_end_ = true;
        if (gzip_ && stream_.avail_in > 0 && *stream_.next_in == 0x1f && inflateReset(&stream_) == Z_OK)
          stream_end_ = false;  // another member follows
      }
      if (rc == Z_BUF_ERROR && stream_.avail_out != 0) break;
    }
    tried_raw_ = true;  // only the first bytes may switch to raw deflate
    if (stream_end_) output_waiting_ = false;
    return stream_end_ ? in.size() : in.size() - stream_.avail_in;
  }

  [[nodiscard]] bool finished() const noexcept override { return stream_end_; }
  [[nodiscard]] bool has_output() const noexcept override { return output_waiting_; }

  z_stream stream_{};
  bool gzip_;
  bool stream_end_ = false;
  bool tried_raw_ = false;
  bool output_waiting_ = false;
};

}  // namespace

std::unique_ptr<BodySource> inflating_body(std::unique_ptr<BodySource> inner, bool gzip, const URL& url,
                                           std::size_t max_size) {
  return std::make_unique<InflatingBody>(std::move(inner), gzip, url, max_size);
}

std::string gzip_compress(std::string_view data, bool gzip_wrapper) {
  z_stream s{};
  deflateInit2(&s, Z_DEFAULT_COMPRESSION, Z_DEFLATED, gzip_wrapper ? 16 + MAX_WBITS : MAX_WBITS, 8,
               Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&s, static_cast<uLong>(data.size())), '\0');
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  s.avail_in = static_cast<uInt>(data.size());
  s.next_out = reinterpret_cast<Bytef*>(out.data());
  s.avail_out = static_cast<uInt>(out.size());
  deflate(&s, Z_FINISH);
  out.resize(s.total_out);
  deflateEnd(&s);
  return out;
}

}  // namespace coring::http::detail
