#include "inflate.hpp"

#include <zlib.h>

#include "coring/http/errors.hpp"
#include "coring/http/headers.hpp"

namespace coring::http::detail {

namespace {

class InflatingBody final : public BodySource {
 public:
  InflatingBody(std::unique_ptr<BodySource> inner, bool gzip, URL url, std::size_t max_size)
      : inner_(std::move(inner)), url_(std::move(url)), max_size_(max_size), gzip_(gzip) {
    init(gzip ? 16 + MAX_WBITS : MAX_WBITS);
  }
  ~InflatingBody() override { inflateEnd(&stream_); }

  Task<bool> read_more(std::string& out) override {
    for (;;) {
      if (ended_) co_return false;
      std::string compressed;
      const bool more = co_await inner_->read_more(compressed);
      if (const Ready ready = inflate_step(compressed, more, out); ready != Ready::must_wait)
        co_return ready == Ready::more;
    }
  }

  Ready read_ready(std::string& out) override {
    for (;;) {
      if (ended_) return Ready::ended;
      std::string compressed;
      const Ready inner = inner_->read_ready(compressed);
      if (inner == Ready::must_wait) return Ready::must_wait;
      if (const Ready ready = inflate_step(compressed, inner == Ready::more, out); ready != Ready::must_wait)
        return ready;
    }
  }

 private:
  /// Inflates what the inner body gave: `more` if that made output,
  /// `ended` at the end of both, `must_wait` when the inner body must give more.
  Ready inflate_step(const std::string& compressed, bool inner_more, std::string& out) {
    const std::size_t before = out.size();
    if (!compressed.empty()) inflate_into(compressed, out);
    if (out.size() > before) return Ready::more;
    if (inner_more) return Ready::must_wait;
    ended_ = true;
    if (!stream_end_)
      throw ClientPayloadError("response body of " + url_.to_string() + ": the " + (gzip_ ? "gzip" : "deflate") +
                               " stream is cut short");
    return Ready::ended;
  }

  void init(int window_bits) {
    stream_ = z_stream{};
    if (inflateInit2(&stream_, window_bits) != Z_OK) throw ClientPayloadError("zlib: inflateInit2 failed");
  }

  void inflate_into(std::string_view in, std::string& out) {
    stream_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    stream_.avail_in = static_cast<uInt>(in.size());
    char buffer[16384];
    while (stream_.avail_in > 0 && !stream_end_) {
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
      if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR)
        throw ClientPayloadError("response body of " + url_.to_string() + ": bad " + (gzip_ ? "gzip" : "deflate") +
                                 " data (" + (stream_.msg ? stream_.msg : "zlib error") + ")");
      const std::size_t produced = sizeof buffer - stream_.avail_out;
      decoded_ += produced;
      // The limit is on what the body becomes: a few KiB of gzip can
      // inflate to gigabytes.
      if (max_size_ != 0 && decoded_ > max_size_)
        throw ClientPayloadError("response body of " + url_.to_string() + ": decoded " + (gzip_ ? "gzip" : "deflate") +
                                 " body larger than the limit of " + std::to_string(max_size_) + " bytes");
      out.append(buffer, produced);
      if (rc == Z_STREAM_END) stream_end_ = true;
      if (rc == Z_BUF_ERROR && stream_.avail_out != 0) break;
    }
    tried_raw_ = true;  // only the first bytes may switch to raw deflate
  }

  std::unique_ptr<BodySource> inner_;
  URL url_;
  std::size_t max_size_;  // 0: none
  std::size_t decoded_ = 0;
  z_stream stream_{};
  bool gzip_;
  bool stream_end_ = false;
  bool ended_ = false;
  bool tried_raw_ = false;
};

}  // namespace

std::unique_ptr<BodySource> decoding_body(std::unique_ptr<BodySource> inner, std::string_view encoding,
                                          const URL& url, std::size_t max_size) {
  if (iequals(encoding, "gzip") || iequals(encoding, "x-gzip"))
    return std::make_unique<InflatingBody>(std::move(inner), true, url, max_size);
  if (iequals(encoding, "deflate")) return std::make_unique<InflatingBody>(std::move(inner), false, url, max_size);
  return inner;
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
