// Customers as rows of a spreadsheet: the columns of a CSV or XLSX export and the cells of one
// customer. Headers are the ones Kehu's importer maps back (客户编号, 姓名, 手机, 电话, 邮箱, 公司,
// 职位, 省份, 城市, 地址, 来源, 备注, custom field labels).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "customer/model.h"
#include "export/model.h"
#include "field/model.h"

namespace kehu::exports {

struct Cell {
  enum class Kind {
    kEmpty,
    kText,
    kPhone,   // phone numbers: always text, never a number (leading 0 and + survive)
    kNumber,  // a custom number field
    kTime,    // epoch ms, shown in Asia/Shanghai time
  };
  Kind kind = Kind::kEmpty;
  std::string text;  // kText, kPhone; for kNumber its text as stored
  double number = 0;
  int64_t time_ms = 0;
};

struct Column {
  std::string header;
  double width = 12;  // Excel character units
  Cell::Kind kind = Cell::Kind::kText;
};

class CustomerTable {
 public:
  // `custom`: the custom field definitions, one column each (by label), in their order.
  CustomerTable(Lang lang, std::vector<field::FieldDef> custom);

  const std::vector<Column>& columns() const { return columns_; }
  // The cells of `c` in column order, written into `out` (resized; its strings are reused).
  // Phones: mobiles in one column and the other numbers in the next, each as shown
  // ("138 0013 8000", "0335-305 1234 转 12", masked "138****8000"), several joined by "; ".
  void Cells(const customer::Customer& c, std::vector<Cell>& out) const;

 private:
  Lang lang_;
  std::vector<field::FieldDef> custom_;
  std::vector<Column> columns_;
};

// "2026-11-22 15:30:00" in Asia/Shanghai time (UTC+8, no daylight saving), for years 0-9999.
std::string LocalTime(int64_t epoch_ms);
void LocalTime(int64_t epoch_ms, char (&out)[19]);

}  // namespace kehu::exports
