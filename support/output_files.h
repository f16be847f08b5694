// Writing what bitgptc produces without losing anything it did not write.
//
// An output folder holds a marker file listing the files bitgptc wrote there. A compile
// into a new folder fills a hidden sibling folder and renames it into place, so a failure
// leaves nothing. A compile into one of its earlier output folders replaces only the files
// whose content changed (each through a temporary file and a rename, so a build system
// sees unchanged files untouched) and removes only files the marker lists that are no
// longer produced: files a user added stay. A folder that is neither empty nor marked is
// refused. Hidden temporary folders left by a killed compile are removed by the next one.
//
// A report goes to standard output for "-"; to a path that is not a regular file (a
// terminal, a pipe, /dev/stdout) it is written directly, never by renaming over the node;
// to a regular file through a temporary file and a rename.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace bitgpt {

// File name (may contain '/') -> content.
using FileSet = std::map<std::string, std::string>;

// The name of the marker file in an output folder.
extern const char* const kOutputMarker;

// Writes `files` into folder `dir` as described above; throws Error (nothing changed in an
// existing folder, nothing created for a new one) when it cannot.
void write_output_dir(const std::string& dir, const FileSet& files);

// A Make-style dependency file: `target` depends on each of `deps` (spaces, '#' and '$'
// escaped as Make and Ninja read them).
std::string depfile_text(const std::string& target, const std::vector<std::string>& deps);

// A text file written in two phases: prepare() checks the destination and, for a regular
// file, writes the temporary file; commit() puts it in place. Preparing every output
// before committing any means a bad report path fails before the output folder is written.
// option: what names the destination on the command line, for messages ("--report-json").
class PendingFile {
 public:
  PendingFile(std::string path, std::string text, std::string option);
  ~PendingFile();
  PendingFile(const PendingFile&) = delete;
  PendingFile& operator=(const PendingFile&) = delete;

  void commit();

 private:
  std::string path_, text_, tmp_, option_;
  bool direct_ = false;  // standard output or a non-regular file: written at commit
};

}  // namespace bitgpt
