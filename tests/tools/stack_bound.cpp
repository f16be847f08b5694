// Worst-case stack depth from GCC's -fcallgraph-info=su output (.ci files): the
// largest sum of static frame sizes along any call path from an entry function.
// Fails on dynamic frames (alloca, VLAs), on recursion, and on indirect calls, any of
// which would make the bound meaningless. libgcc helpers (__aeabi_*) carry no frame
// information; each is charged kLibgccFrame bytes.
//   stack_bound ENTRY file.ci...   prints the bound in bytes
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

namespace {

constexpr long kLibgccFrame = 128;

struct Node {
  long bytes = -1;  // -1: no information (an external helper)
  bool dynamic = false;
  std::vector<std::string> callees;
};

// Titles are "file.cpp:function"; calls into another file name the function alone.
std::string function_of(const std::string& title) {
  const auto colon = title.rfind(':');
  return colon == std::string::npos ? title : title.substr(colon + 1);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: stack_bound ENTRY file.ci...\n";
    return 2;
  }
  const std::string entry = argv[1];
  std::map<std::string, Node> graph;  // by function name
  const std::regex node_re(R"re(node: \{ title: "([^"]+)" label: "[^"]*\\n([0-9]+) bytes \((static|dynamic[^)]*)\))re");
  const std::regex ext_re(R"re(node: \{ title: "([^"]+)")re");
  const std::regex edge_re(R"re(edge: \{ sourcename: "([^"]+)" targetname: "([^"]+)")re");
  for (int i = 2; i < argc; ++i) {
    std::ifstream in(argv[i]);
    if (!in) {
      std::cerr << argv[i] << ": cannot read\n";
      return 1;
    }
    std::string line;
    std::smatch m;
    while (std::getline(in, line)) {
      if (std::regex_search(line, m, node_re)) {
        Node& n = graph[function_of(m[1])];
        n.bytes = std::stol(m[2]);
        n.dynamic = m[3].str() != "static";
      } else if (std::regex_search(line, m, edge_re)) {
        graph[function_of(m[1])].callees.push_back(function_of(m[2]));
      } else if (std::regex_search(line, m, ext_re)) {
        graph[function_of(m[1])];
      }
    }
  }
  if (!graph.count(entry)) {
    std::cerr << "stack_bound: no function '" << entry << "' in the call graphs\n";
    return 1;
  }
  std::map<std::string, long> memo;
  std::set<std::string> active;
  std::string problem;
  std::function<long(const std::string&)> depth = [&](const std::string& f) -> long {
    if (auto it = memo.find(f); it != memo.end()) return it->second;
    if (active.count(f)) {
      problem = "recursion through " + f;
      return 0;
    }
    const Node& n = graph[f];
    if (n.dynamic) problem = f + " has a dynamic stack frame";
    if (n.bytes < 0 && f.rfind("__aeabi_", 0) != 0 && f.rfind("__", 0) != 0 && f != "memcpy" && f != "memset")
      problem = "no frame information for " + f + " (an indirect or external call?)";
    active.insert(f);
    long deepest = 0;
    for (const std::string& c : n.callees) deepest = std::max(deepest, depth(c));
    active.erase(f);
    return memo[f] = (n.bytes < 0 ? kLibgccFrame : n.bytes) + deepest;
  };
  const long bound = depth(entry);
  if (!problem.empty()) {
    std::cerr << "stack_bound: " << problem << "\n";
    return 1;
  }
  std::cout << bound << "\n";
  return 0;
}
