#include "support/output_files.h"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include "support/diagnostics.h"

namespace bitgpt {

namespace fs = std::filesystem;

const char* const kOutputMarker = ".bitgptc-output";

namespace {

constexpr const char* kTempTag = ".bitgptc-tmp-";

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file(const fs::path& p, const std::string& text, const std::string& shown) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) throw Error(shown + ": cannot write");
}

// The files an earlier compile wrote into dir, from its marker (one name per line after
// the first, explanatory line).
std::set<std::string> marked_files(const fs::path& dir) {
  std::set<std::string> names;
  std::istringstream in(read_file(dir / kOutputMarker));
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line))
    if (!line.empty()) names.insert(line);
  return names;
}

std::string marker_text(const FileSet& files) {
  std::string s = "written by bitgptc: the files below are replaced or removed by the next compile into this folder; others are kept\n";
  for (const auto& [name, text] : files) s += name + "\n";
  return s;
}

// A name a compile may write: relative, inside the folder.
void check_name(const std::string& name) {
  const fs::path p(name);
  if (name.empty() || p.is_absolute() || name.find("..") != std::string::npos || name == kOutputMarker)
    throw Error(fmt::format("internal error: output file name '{}'", name));
}

// Temporary folders or files named `<prefix><pid>` whose process has ended.
void remove_stale_temps(const fs::path& folder, const std::string& prefix) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(folder, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    const std::string pid = name.substr(prefix.size());
    if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) continue;
    if (kill(static_cast<pid_t>(std::stol(pid)), 0) == 0 || errno != ESRCH) continue;  // still running
    fs::remove_all(entry.path(), ec);
  }
}

// `dir` without trailing separators ("out/" is "out"; "." and "/" stay).
fs::path folder_path(const std::string& dir) {
  if (dir.empty()) throw Error("-o: the output folder is an empty path");
  fs::path p = fs::path(dir).lexically_normal();
  if (p.has_relative_path() && p.filename().empty()) p = p.parent_path();
  return p;
}

void write_new_folder(const fs::path& target, const std::string& shown, const FileSet& files) {
  const fs::path parent = fs::absolute(target).parent_path();
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec) throw Error(shown + ": cannot create the parent folder: " + ec.message());
  const std::string prefix = "." + target.filename().string() + kTempTag;
  remove_stale_temps(parent, prefix);
  const fs::path tmp = parent / (prefix + std::to_string(getpid()));
  try {
    fs::remove_all(tmp);
    fs::create_directory(tmp);
    for (const auto& [name, text] : files) {
      fs::create_directories((tmp / name).parent_path());
      write_file(tmp / name, text, shown + "/" + name);
    }
    write_file(tmp / kOutputMarker, marker_text(files), shown);
    fs::rename(tmp, fs::absolute(target));
  } catch (const fs::filesystem_error& e) {
    fs::remove_all(tmp, ec);
    throw Error(shown + ": cannot write the output: " + e.what());
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
}

// No files below it, only (empty) folders: what a build system leaves when it creates an
// output's folders before running bitgptc.
bool holds_no_files(const fs::path& dir) {
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
    if (!it->is_directory()) return false;
  return !ec;
}

void update_folder(const fs::path& target, const std::string& shown, const FileSet& files) {
  const bool marked = fs::exists(target / kOutputMarker);
  if (!marked && !holds_no_files(target))
    throw Error(shown + ": exists, is not empty and was not written by bitgptc; choose another -o or remove it");
  const std::set<std::string> before = marked ? marked_files(target) : std::set<std::string>{};
  const std::string prefix = std::string(kTempTag).substr(1);  // "bitgptc-tmp-": hidden files below
  remove_stale_temps(target, "." + prefix);
  const fs::path tmp = target / ("." + prefix + std::to_string(getpid()));
  std::error_code ec;
  try {
    for (const auto& [name, text] : files) {
      const fs::path p = target / name;
      if (fs::is_regular_file(p) && read_file(p) == text) continue;  // unchanged: keep its time stamp
      if (fs::exists(p) && !fs::is_regular_file(p)) throw Error(fmt::format("{}/{}: exists and is not a regular file", shown, name));
      fs::create_directories(p.parent_path());
      write_file(tmp, text, shown + "/" + name);
      fs::rename(tmp, p);
    }
    for (const std::string& name : before)
      if (!files.count(name) && name.find("..") == std::string::npos && !fs::path(name).is_absolute()) fs::remove(target / name, ec);
    write_file(tmp, marker_text(files), shown);
    fs::rename(tmp, target / kOutputMarker);
  } catch (const fs::filesystem_error& e) {
    fs::remove(tmp, ec);
    throw Error(shown + ": cannot write the output: " + e.what());
  } catch (...) {
    fs::remove(tmp, ec);
    throw;
  }
}

}  // namespace

void write_output_dir(const std::string& dir, const FileSet& files) {
  for (const auto& [name, text] : files) check_name(name);
  const fs::path target = folder_path(dir);
  std::error_code ec;
  const fs::file_status st = fs::status(target, ec);
  if (!fs::exists(st)) return write_new_folder(target, dir, files);
  if (!fs::is_directory(st)) throw Error(dir + ": exists and is not a directory");
  update_folder(target, dir, files);
}

std::string depfile_text(const std::string& target, const std::vector<std::string>& deps) {
  auto escape = [](const std::string& path) {
    std::string r;
    for (char c : path) {
      if (c == ' ' || c == '#') r += '\\';
      if (c == '$') r += '$';
      r += c;
    }
    return r;
  };
  std::string s = escape(target) + ":";
  for (const std::string& d : deps) s += " \\\n  " + escape(d);
  return s + "\n";
}

PendingFile::PendingFile(std::string path, std::string text, std::string option)
    : path_(std::move(path)), text_(std::move(text)), option_(std::move(option)) {
  if (path_.empty()) throw Error(option_ + ": the path is empty (use - for standard output)");
  if (path_ == "-") {
    direct_ = true;
    return;
  }
  std::error_code ec;
  const fs::file_status st = fs::status(path_, ec);
  if (fs::is_directory(st)) throw Error(path_ + ": is a directory, not a file (" + option_ + ")");
  if (fs::exists(st) && !fs::is_regular_file(st)) {
    direct_ = true;  // a device, a pipe: write into it, never rename over it
    return;
  }
  const fs::path p(path_);
  const fs::path parent = p.has_parent_path() ? p.parent_path() : fs::path(".");
  if (!fs::is_directory(parent, ec)) throw Error(path_ + ": the folder " + parent.string() + " does not exist");
  remove_stale_temps(parent, "." + p.filename().string() + kTempTag);
  tmp_ = (parent / ("." + p.filename().string() + kTempTag + std::to_string(getpid()))).string();
  try {
    write_file(tmp_, text_, path_);
  } catch (...) {
    fs::remove(tmp_, ec);
    throw;
  }
}

PendingFile::~PendingFile() {
  std::error_code ec;
  if (!tmp_.empty()) fs::remove(tmp_, ec);
}

void PendingFile::commit() {
  if (path_ == "-") {
    std::cout << text_ << std::flush;
    if (!std::cout) throw Error(option_ + " -: cannot write to standard output");
    return;
  }
  if (direct_) return write_file(path_, text_, path_);
  std::error_code ec;
  fs::rename(tmp_, path_, ec);
  if (ec) throw Error(path_ + ": cannot write: " + ec.message());
  tmp_.clear();
}

}  // namespace bitgpt
