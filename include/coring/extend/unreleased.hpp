#pragma once
// Part of the extension seam (coring/extend/README.md): the one report for
// a resource destroyed without its asynchronous close.
#include "coring/async_with.hpp"

namespace coring::extend {

/// Says on stderr that `what` (e.g. "Thing (use async_with)") was destroyed
/// without being released; tests count the reports. Call it from the
/// destructor of a resource that must be closed with co_await.
using detail::report_unreleased;

}  // namespace coring::extend
