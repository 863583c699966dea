// Crash safety for real: crash_child writes to a collection in a loop and is killed with SIGKILL
// at random moments, some during consolidations. After each kill the collection is reopened
// and every acknowledged write must be there (the latest version of each id), no deleted id may
// come back, and the generation on disk must pass verify_index. The one operation in flight at
// the kill may have happened or not, but wholly.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "collection/manifest.hpp"
#include "crash_common.hpp"
#include "disk/verify.hpp"
#include "testing/testing.hpp"

#ifndef STRATA_CRASH_CHILD
#error "STRATA_CRASH_CHILD must name the crash_child binary"
#endif

namespace strata {
namespace {

struct Op {
    bool upsert = false;
    uint32_t version = 0;
    std::vector<uint64_t> ids;
};

/// Runs the child, collecting its stdout lines, until kill() or exit.
class Child {
  public:
    Child(const std::string& dir, uint64_t seed, uint64_t run) {
        int fds[2];
        EXPECT_EQ(::pipe(fds), 0);
        pid_ = ::fork();
        if (pid_ == 0) {
            ::dup2(fds[1], 1);
            ::close(fds[0]);
            ::close(fds[1]);
            const std::string s = std::to_string(seed), r = std::to_string(run);
            ::execl(STRATA_CRASH_CHILD, STRATA_CRASH_CHILD, dir.c_str(), s.c_str(), r.c_str(),
                    static_cast<char*>(nullptr));
            ::_exit(127);
        }
        ::close(fds[1]);
        reader_ = std::thread([this, fd = fds[0]] {
            std::string buf;
            char chunk[4096];
            for (;;) {
                const ssize_t got = ::read(fd, chunk, sizeof(chunk));
                if (got <= 0) break;
                buf.append(chunk, static_cast<size_t>(got));
                size_t nl;
                while ((nl = buf.find('\n')) != std::string::npos) {
                    std::lock_guard<std::mutex> lock(mu_);
                    lines_.push_back(buf.substr(0, nl));
                    buf.erase(0, nl + 1);
                }
            }
            ::close(fd);
        });
    }
    /// True once a line equal to `what` has been printed (waits up to `ms`).
    bool wait_for(const std::string& what, int ms) {
        for (int i = 0; i < ms; ++i) {
            {
                std::lock_guard<std::mutex> lock(mu_);
                if (std::find(lines_.begin(), lines_.end(), what) != lines_.end()) return true;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        return false;
    }
    /// SIGKILL, reap; returns the child's exit status (-1 when it was killed as intended).
    int kill_and_reap() {
        ::kill(pid_, SIGKILL);
        int status = 0;
        ::waitpid(pid_, &status, 0);
        reader_.join();
        return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL ? -1 : WEXITSTATUS(status);
    }
    std::vector<std::string> lines() {
        std::lock_guard<std::mutex> lock(mu_);
        return lines_;
    }

  private:
    pid_t pid_ = -1;
    std::thread reader_;
    std::mutex mu_;
    std::vector<std::string> lines_;
};

/// id -> version; absent = deleted or never written.
using Model = std::map<uint64_t, uint32_t>;

void apply_op(Model& m, const Op& op) {
    for (uint64_t id : op.ids) {
        if (op.upsert) {
            m[id] = op.version;
        } else {
            m.erase(id);
        }
    }
}

TEST(CrashSafety, SigkillDuringWritesAndConsolidationLosesNothingAcknowledged) {
    testing::TempDir tmp;
    const uint64_t seed = testing::test_seed(21);
    std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
    const std::string dir = tmp.file("c");
    std::mt19937_64 rng(seed);
    Model model;
    int during_consolidation = 0, during_write = 0;
    constexpr int kKills = 24;
    for (int run = 0; run < kKills; ++run) {
        Child child(dir, seed, static_cast<uint64_t>(run));
        ASSERT_TRUE(child.wait_for("R", 20000)) << "child did not start";
        if (run % 3 == 2) {
            // Kill inside an explicit consolidation, at a random point of it.
            child.wait_for("C", 5000);
            std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 120));
        } else {
            std::this_thread::sleep_for(std::chrono::milliseconds(50 + rng() % 700));
        }
        ASSERT_EQ(child.kill_and_reap(), -1) << "the child failed before it was killed";
        // Replay what the child said: acknowledged ops are certain, the last one may not be.
        std::optional<Op> pending;
        bool in_consolidation = false;
        for (const std::string& line : child.lines()) {
            std::istringstream in(line);
            std::string tag;
            in >> tag;
            if (tag == "U" || tag == "D") {
                Op op;
                op.upsert = tag == "U";
                if (op.upsert) in >> op.version;
                uint64_t id;
                while (in >> id) op.ids.push_back(id);
                pending = op;
            } else if (tag == "A") {
                ASSERT_TRUE(pending.has_value());
                apply_op(model, *pending);
                pending.reset();
            } else if (tag == "C") {
                in_consolidation = true;
            } else if (tag == "c") {
                in_consolidation = false;
            }
        }
        if (in_consolidation) ++during_consolidation;
        if (pending) ++during_write;
        CollectionOptions o = crash::child_options();
        o.background = false;
        auto c = Collection::open(dir, o);
        ASSERT_TRUE(c.is_ok()) << "run " << run << ": " << c.status().to_string();
        // The in-flight op happened wholly or not at all.
        std::vector<float> got(crash::kDim);
        if (pending) {
            Model with = model;
            apply_op(with, *pending);
            size_t as_with = 0;
            for (uint64_t id : pending->ids) {
                const Status s = (*c)->get(id, got.data());
                const auto it = with.find(id);
                const bool matches_with =
                    it == with.end() ? s.code() == StatusCode::kNotFound
                                     : s.is_ok() && got == crash::vector_for(seed, id, it->second);
                as_with += matches_with ? 1 : 0;
            }
            ASSERT_TRUE(as_with == 0 || as_with == pending->ids.size())
                << "run " << run << ": the write in flight was applied in part";
            if (as_with == pending->ids.size()) model = with;
        }
        for (const auto& [id, version] : model) {
            const Status s = (*c)->get(id, got.data());
            ASSERT_TRUE(s.is_ok())
                << "run " << run << ": acknowledged id " << id << " lost: " << s.to_string();
            ASSERT_EQ(got, crash::vector_for(seed, id, version))
                << "run " << run << ": id " << id << " holds an older version";
        }
        for (const std::string& line : child.lines()) {
            if (line.rfind("D ", 0) != 0) continue;
            std::istringstream in(line.substr(2));
            uint64_t id;
            while (in >> id) {
                if (model.count(id) == 0) {
                    ASSERT_EQ((*c)->get(id, got.data()).code(), StatusCode::kNotFound)
                        << "run " << run << ": deleted id " << id << " came back";
                }
            }
        }
        const auto st = (*c)->stats();
        EXPECT_EQ(st.live, model.size()) << "run " << run;
        if (st.generation > 0) {
            auto v = disk::verify_index(dir + "/" + collection::generation_dir_name(st.generation));
            ASSERT_TRUE(v.is_ok()) << v.status().to_string();
            ASSERT_TRUE(v->ok()) << (v->problems.empty() ? "" : v->problems[0]);
        }
    }
    std::printf(
        "%d kills: %d during an explicit consolidation, %d with a write in flight; %zu "
        "live ids at the end\n",
        kKills, during_consolidation, during_write, model.size());
    EXPECT_GE(during_consolidation, 4);
    EXPECT_GE(during_write, 4);
}

}  // namespace
}  // namespace strata
