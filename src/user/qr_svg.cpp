#include "user/qr_svg.h"

#include <qrencode.h>

#include <cerrno>
#include <memory>

namespace kehu::user {
namespace {

struct QrDeleter {
  void operator()(QRcode* q) const { QRcode_free(q); }
};

constexpr int kQuietModules = 4;

}  // namespace

core::Result<std::string> QrSvg(std::string_view text, int module_px) {
  if (text.empty() || text.size() > 2000 || text.find('\0') != std::string_view::npos) {
    return std::unexpected(core::Error::Invalid("a QR code needs 1-2000 bytes of text"));
  }
  const std::string s(text);
  errno = 0;
  std::unique_ptr<QRcode, QrDeleter> qr(QRcode_encodeString8bit(s.c_str(), 0, QR_ECLEVEL_M));
  if (!qr) {
    return std::unexpected(errno == ERANGE
                               ? core::Error::Invalid("the text is too long for a QR code")
                               : core::Error::Internal("libqrencode cannot encode the text"));
  }
  const int w = qr->width;
  const int size = w + 2 * kQuietModules;
  const std::string px = std::to_string(size * module_px);
  std::string path;
  path.reserve(static_cast<std::size_t>(w) * w * 4);
  for (int y = 0; y < w; ++y) {
    for (int x = 0; x < w;) {
      if (!(qr->data[y * w + x] & 1)) {
        ++x;
        continue;
      }
      int run = 1;  // dark modules side by side become one rectangle
      while (x + run < w && (qr->data[y * w + x + run] & 1)) ++run;
      path += "M" + std::to_string(x + kQuietModules) + " " + std::to_string(y + kQuietModules) +
              "h" + std::to_string(run) + "v1h-" + std::to_string(run) + "z";
      x += run;
    }
  }
  const std::string box = std::to_string(size);
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + box + " " + box +
         "\" width=\"" + px + "\" height=\"" + px +
         "\" shape-rendering=\"crispEdges\"><rect width=\"" + box + "\" height=\"" + box +
         "\" fill=\"#fff\"/><path fill=\"#000\" d=\"" + path + "\"/></svg>";
}

}  // namespace kehu::user
