#pragma once
// Umbrella header: the whole runtime.
#include "coring/errors.hpp"
#include "coring/loop.hpp"
#include "coring/run.hpp"
#include "coring/sleep.hpp"
#include "coring/task.hpp"
#include "coring/task_handle.hpp"
