// Label filters: Qdrant-style JSON parsed into clauses, matched against a row's labels.
#include <gtest/gtest.h>

#include <map>

#include "search/field_labels.hpp"
#include "search/filter.hpp"

namespace strata::search {
namespace {

const std::map<std::string, uint32_t, std::less<>> kIds = {{"a", 0}, {"b", 1}, {"c", 2}, {"d", 3}};

uint32_t resolve(std::string_view name) {
    auto it = kIds.find(name);
    return it == kIds.end() ? LabelFilter::kUnknown : it->second;
}

LabelFilter parse(const std::string& json) {
    auto f = parse_label_filter(json, resolve);
    EXPECT_TRUE(f.is_ok()) << f.status().to_string();
    return f.is_ok() ? *f : LabelFilter{};
}

bool matches(const LabelFilter& f, std::vector<uint32_t> row) { return f.matches(row); }

TEST(LabelFilter, MustShouldMustNot) {
    const auto f = parse(R"({"must": [{"key": "label", "match": {"value": "a"}},
                                      {"key": "label", "match": {"any": ["b", "c"]}}],
                             "must_not": [{"key": "label", "match": {"value": "d"}}]})");
    EXPECT_TRUE(matches(f, {0, 1}));
    EXPECT_TRUE(matches(f, {0, 2}));
    EXPECT_FALSE(matches(f, {0}));        // no b or c
    EXPECT_FALSE(matches(f, {1, 2}));     // no a
    EXPECT_FALSE(matches(f, {0, 1, 3}));  // d excluded
    const auto s = parse(R"({"should": [{"key": "label", "match": {"value": "c"}},
                                        {"key": "label", "match": {"value": "d"}}]})");
    EXPECT_TRUE(matches(s, {3}));
    EXPECT_FALSE(matches(s, {0, 1}));
    EXPECT_TRUE(parse("{}").empty());
    EXPECT_TRUE(matches(parse("{}"), {}));
}

TEST(LabelFilter, UnknownLabelsMatchNothing) {
    EXPECT_FALSE(
        matches(parse(R"({"must": [{"key": "label", "match": {"value": "zzz"}}]})"), {0, 1, 2, 3}));
    EXPECT_TRUE(
        matches(parse(R"({"must_not": [{"key": "label", "match": {"value": "zzz"}}]})"), {0}));
    EXPECT_TRUE(
        matches(parse(R"({"must": [{"key": "label", "match": {"any": ["zzz", "b"]}}]})"), {1}));
}

TEST(LabelFilter, BadFiltersNameThePart) {
    const std::pair<const char*, const char*> cases[] = {
        {"[1]", "filter must be an object"},
        {"{\"must\": 3}", "filter.must must be an array"},
        {"{\"maybe\": []}", "unknown part 'maybe'"},
        {R"({"must": [{"key": "price", "match": {"value": "a"}}]})",
         "filter.must[0].key: 'price' is not filterable here"},
        {R"({"must": [{"key": "label", "range": {"lt": 5}}]})", "a range needs a field key"},
        {R"({"must": [{"key": "label", "match": {"value": [1]}}]})",
         "filter.must[0].match.value must be a string, a number or a boolean"},
        {R"({"must": [{"match": {"value": "a"}}]})", "filter.must[0].key is required"},
        {R"({"must": [{"key": "label", "match": {"any": []}}]})", "non-empty array"},
        {R"({"must": [{"key": "label", "match": {"value": "a", "any": ["b"]}}]})",
         "exactly one of"},
        {R"({"must": [{"key": "label", "match": {"text": "a"}}]})", "unknown field 'text'"},
        {R"({"must": [{"key": "label"}], "x": 1})", "needs a match"},
        {"{\"must\": [", "invalid JSON"},
    };
    for (const auto& [json, want] : cases) {
        auto f = parse_label_filter(json, resolve);
        ASSERT_FALSE(f.is_ok()) << json;
        EXPECT_EQ(f.status().code(), StatusCode::kInvalidArgument) << json;
        EXPECT_NE(f.status().message().find(want), std::string::npos)
            << json << ": " << f.status().message();
    }
}

TEST(LabelFilter, RangesOverNumericFields) {
    // Labels: fields price (numbers, one not), color; a plain label.
    const std::vector<std::string> names = {"price=5",   "price=12.5", "price=50", "price=x",
                                            "color=red", "plain",      "price=-3", "price=1e3"};
    FieldLabels fields;
    for (uint32_t i = 0; i < names.size(); ++i) fields.add(i, names[i]);
    const auto by_name = [&](std::string_view n) {
        for (uint32_t i = 0; i < names.size(); ++i) {
            if (names[i] == n) return i;
        }
        return LabelFilter::kUnknown;
    };
    const auto clause = [&](const std::string& json, UnknownField u = UnknownField::kError) {
        auto f = parse_label_filter(json, by_name, &fields, u);
        EXPECT_TRUE(f.is_ok()) << json << ": " << f.status().to_string();
        return f.is_ok() && !f->must.empty() ? f->must[0] : std::vector<uint32_t>{};
    };
    using V = std::vector<uint32_t>;
    EXPECT_EQ(clause(R"({"must": [{"key": "price", "range": {"gte": 5, "lt": 50}}]})"), (V{0, 1}));
    EXPECT_EQ(clause(R"({"must": [{"key": "price", "range": {"gt": 5, "lte": 50}}]})"), (V{1, 2}));
    EXPECT_EQ(clause(R"({"must": [{"key": "price", "range": {"lt": 0}}]})"), (V{6}));
    EXPECT_EQ(clause(R"({"must": [{"key": "price", "range": {"gte": 51}}]})"), (V{7}));
    EXPECT_EQ(clause(R"({"must": [{"key": "price", "range": {"gt": 50, "lt": 51}}]})"),
              (V{LabelFilter::kUnknown}));  // nothing in range: matches nothing
    EXPECT_EQ(clause(R"({"must": [{"key": "price", "range": {"gt": 9, "lt": 1}}]})"),
              (V{LabelFilter::kUnknown}));
    // match on a field: the label "field=value"; 50.0 spells like 50.
    EXPECT_EQ(clause(R"({"must": [{"key": "price", "match": {"any": [50.0, 12.5, "x"]}}]})"),
              (V{1, 2, 3}));
    EXPECT_EQ(clause(R"({"must": [{"key": "color", "match": {"value": "red"}}]})"), (V{4}));
    // A field no label has: an error for an index, nothing for a collection.
    auto unknown =
        parse_label_filter(R"({"must": [{"key": "size", "range": {"lt": 3}}]})", by_name, &fields);
    ASSERT_FALSE(unknown.is_ok());
    EXPECT_NE(unknown.status().message().find("'size' is not a field"), std::string::npos)
        << unknown.status().message();
    EXPECT_EQ(
        clause(R"({"must": [{"key": "size", "range": {"lt": 3}}]})", UnknownField::kMatchesNothing),
        (V{LabelFilter::kUnknown}));
    const std::pair<const char*, const char*> bad[] = {
        {R"({"must": [{"key": "price", "range": {"lt": "5"}}]})", "range.lt must be a number"},
        {R"({"must": [{"key": "price", "range": {"gt": 1, "gte": 2}}]})", "two lower bounds"},
        {R"({"must": [{"key": "price", "range": {"lt": 1, "lte": 2}}]})", "two upper bounds"},
        {R"({"must": [{"key": "price", "range": {"eq": 1}}]})", "unknown field 'eq'"},
        {R"({"must": [{"key": "price", "range": {}}]})", "with gt, gte, lt or lte"},
        {R"({"must": [{"key": "price", "range": {"lt": 1}, "match": {"value": 1}}]})",
         "both match and range"},
    };
    for (const auto& [json, want] : bad) {
        auto f = parse_label_filter(json, by_name, &fields);
        ASSERT_FALSE(f.is_ok()) << json;
        EXPECT_NE(f.status().message().find(want), std::string::npos)
            << json << ": " << f.status().message();
    }
    EXPECT_EQ(label_number("12.5"), 12.5);
    EXPECT_EQ(label_number("-3"), -3.0);
    EXPECT_FALSE(label_number("12x").has_value());
    EXPECT_FALSE(label_number("").has_value());
    EXPECT_FALSE(label_number("inf").has_value());
    EXPECT_FALSE(label_number("nan").has_value());
}

TEST(LabelFilter, ValuesOfOtherTypesResolveAsText) {
    // Payload fields of the server: integers and booleans become text ("5", "true").
    std::vector<std::pair<std::string, std::string>> seen;
    auto f = parse_filter(
        R"({"must": [{"key": "size", "match": {"any": [5, -2, true, "x", 2.50, -0.0]}}]})",
        [&](std::string_view k, std::string_view v) -> Result<uint32_t> {
            seen.emplace_back(k, v);
            return static_cast<uint32_t>(seen.size() - 1);
        });
    ASSERT_TRUE(f.is_ok()) << f.status().to_string();
    ASSERT_EQ(seen.size(), 6u);
    EXPECT_EQ(seen[4].second, "2.5");
    EXPECT_EQ(seen[5].second, "0");
    EXPECT_EQ(seen[0].second, "5");
    EXPECT_EQ(seen[1].second, "-2");
    EXPECT_EQ(seen[2].second, "true");
    EXPECT_EQ(seen[3].first, "size");
    auto refused = parse_filter(R"({"should": [{"key": "color", "match": {"value": "red"}}]})",
                                [](std::string_view, std::string_view) -> Result<uint32_t> {
                                    return Status::invalid_argument("'color' is not filterable");
                                });
    ASSERT_FALSE(refused.is_ok());
    EXPECT_EQ(refused.status().message(), "filter.should[0].key: 'color' is not filterable");
}

}  // namespace
}  // namespace strata::search
