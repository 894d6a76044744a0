// QR codes as SVG (libqrencode), for the MFA enrolment page: the UI shows the SVG as an
// <img src="data:image/svg+xml;..."> (the CSP allows data: images, and an SVG in an <img>
// runs no script). Thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "core/error.h"

namespace kehu::user {

// A QR code (error correction level M, 8-bit mode, the smallest version that fits) with a
// four-module quiet zone, black on white, `module_px` pixels per module as its natural size.
// kInvalid when the text is empty or too long for a QR code.
core::Result<std::string> QrSvg(std::string_view text, int module_px = 4);

}  // namespace kehu::user
