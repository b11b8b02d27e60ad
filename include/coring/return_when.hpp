#pragma once
// When wait() returns (asyncio's FIRST_COMPLETED, FIRST_EXCEPTION,
// ALL_COMPLETED); gather waits as all_completed does.

namespace coring {

enum class ReturnWhen {
  first_completed,  ///< as soon as any task is done
  first_exception,  ///< as soon as any task fails, else when all are done
  all_completed,    ///< when every task is done
};

}  // namespace coring
