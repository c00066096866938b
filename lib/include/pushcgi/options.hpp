// Command-line options: "--name value" or "--name=value", --help, --version, and one-line
// errors that name the option.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pushcgi {

class Options {
 public:
  // Applies a value; returns "" or what is wrong with it ("expected ..., got '...'").
  using Apply = std::function<std::string(std::string_view value)>;

  Options(std::string program, std::string summary);

  // --name (no value) sets target to true.
  void add_flag(std::string name, std::string help, bool& target);
  // --name VALUE, checked and stored by apply.
  void add_value(std::string name, std::string metavar, std::string help, Apply apply);
  // --name alone, or --name=VALUE (joined: the next argument is never taken as its value);
  // apply gets nothing for the first. Help shows "--name[=METAVAR]".
  using ApplyOptional = std::function<std::string(std::optional<std::string_view> value)>;
  void add_optional_value(std::string name, std::string metavar, std::string help,
                          ApplyOptional apply);
  // --name N, a whole number in [min, max].
  void add_number(std::string name, std::string metavar, std::string help, unsigned& target,
                  unsigned min, unsigned max);
  // --name TEXT, any non-empty text.
  void add_text(std::string name, std::string metavar, std::string help, std::string& target);

  enum class Outcome { run, help, version, error };
  struct Result {
    Outcome outcome;
    std::string message;  // for error: one line, without the program name
  };
  Result parse(int argc, const char* const* argv);

  std::string help_text() const;
  const std::string& program() const { return program_; }

 private:
  enum class Kind { flag, value, optional_value };
  struct Option {
    Kind kind;
    std::string name;
    std::string metavar;  // empty for a flag
    std::string help;
    ApplyOptional apply;  // gets a value unless the kind is flag or it was left out
  };
  const Option* find(std::string_view name) const;

  std::string program_;
  std::string summary_;
  std::vector<Option> options_;
};

}  // namespace pushcgi
