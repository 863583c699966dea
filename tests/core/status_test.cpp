// Status, Result and the error macros.
#include <strata/status.hpp>
#include <strata/types.hpp>

#include <cerrno>

#include <gtest/gtest.h>

namespace strata {
namespace {

Result<int> parse_positive(int v) {
    if (v <= 0) return Status::invalid_argument("value must be positive");
    return v;
}

Result<int> doubled(int v) {
    STRATA_ASSIGN_OR_RETURN(int x, parse_positive(v));
    return 2 * x;
}

Status check_both(int a, int b) {
    STRATA_RETURN_IF_ERROR(parse_positive(a).status());
    STRATA_RETURN_IF_ERROR(parse_positive(b).status());
    return Status::ok();
}

TEST(Status, OkAndErrors) {
    EXPECT_TRUE(Status::ok().is_ok());
    EXPECT_EQ(Status::ok().to_string(), "OK");
    Status s = Status::corruption("file x: truncated");
    EXPECT_FALSE(s.is_ok());
    EXPECT_EQ(s.code(), StatusCode::kCorruption);
    EXPECT_EQ(s.to_string(), "Corruption: file x: truncated");
    Status io = Status::io_error("open /nope", ENOENT);
    EXPECT_EQ(io.sys_errno(), ENOENT);
    EXPECT_NE(io.to_string().find("No such file"), std::string::npos) << io.to_string();
    EXPECT_EQ(s.with_context("loading").message(), "loading: file x: truncated");
    EXPECT_EQ(s.with_context("loading").code(), StatusCode::kCorruption);
}

TEST(Result, ValueAndPropagation) {
    auto r = doubled(21);
    ASSERT_TRUE(r.is_ok());
    EXPECT_EQ(*r, 42);
    auto bad = doubled(-1);
    ASSERT_FALSE(bad.is_ok());
    EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(bad.status().message(), "value must be positive");
    EXPECT_TRUE(check_both(1, 2).is_ok());
    EXPECT_FALSE(check_both(1, 0).is_ok());
}

TEST(Types, ParseAndNames) {
    for (auto t : {DType::kF32, DType::kU8, DType::kI8}) {
        auto parsed = parse_dtype(dtype_name(t));
        ASSERT_TRUE(parsed.is_ok());
        EXPECT_EQ(*parsed, t);
    }
    for (auto m : {Metric::kL2, Metric::kInnerProduct, Metric::kCosine}) {
        auto parsed = parse_metric(metric_name(m));
        ASSERT_TRUE(parsed.is_ok());
        EXPECT_EQ(*parsed, m);
    }
    auto bad = parse_dtype("f64");
    ASSERT_FALSE(bad.is_ok());
    EXPECT_NE(bad.status().message().find("f64"), std::string::npos);
    EXPECT_FALSE(parse_metric("hamming").is_ok());
    EXPECT_EQ(dtype_size(DType::kF32), 4u);
    EXPECT_EQ(dtype_size(DType::kI8), 1u);
}

}  // namespace
}  // namespace strata
