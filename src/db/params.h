// Values bound positionally to a SOCI statement whose SQL is built at run time (dynamic
// filters): each call binds one value and returns its placeholder (":p1", ":p2", …) to splice
// into the SQL. The storage outlives the statement's execution.
#pragma once

#include <soci/soci.h>

#include <cstdint>
#include <deque>
#include <string>

namespace kehu::db {

class Params {
 public:
  explicit Params(soci::statement& st) : st_(st) {}
  std::string Text(std::string v) {
    texts_.push_back(std::move(v));
    st_.exchange(soci::use(texts_.back()));
    return Next();
  }
  std::string Number(int64_t v) {
    numbers_.push_back(v);
    st_.exchange(soci::use(numbers_.back()));
    return Next();
  }

 private:
  std::string Next() { return ":p" + std::to_string(++n_); }
  soci::statement& st_;
  std::deque<std::string> texts_;
  std::deque<long long> numbers_;
  int n_ = 0;
};

}  // namespace kehu::db
