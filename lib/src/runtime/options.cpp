#include "pushcgi/options.hpp"

#include "pushcgi/query.hpp"
#include "pushcgi/text.hpp"

namespace pushcgi {

Options::Options(std::string program, std::string summary)
    : program_(std::move(program)), summary_(std::move(summary)) {}

void Options::add_flag(std::string name, std::string help, bool& target) {
  options_.push_back({Kind::flag, std::move(name), "", std::move(help),
                      [&target](std::optional<std::string_view>) {
                        target = true;
                        return std::string();
                      }});
}

void Options::add_value(std::string name, std::string metavar, std::string help, Apply apply) {
  options_.push_back({Kind::value, std::move(name), std::move(metavar), std::move(help),
                      [apply = std::move(apply)](std::optional<std::string_view> value) {
                        return apply(value.value_or(std::string_view()));
                      }});
}

void Options::add_optional_value(std::string name, std::string metavar, std::string help,
                                 ApplyOptional apply) {
  options_.push_back({Kind::optional_value, std::move(name), std::move(metavar), std::move(help),
                      std::move(apply)});
}

void Options::add_number(std::string name, std::string metavar, std::string help, unsigned& target,
                         unsigned min, unsigned max) {
  add_value(std::move(name), std::move(metavar), std::move(help),
            [&target, min, max](std::string_view value) {
              const auto number = parse_number(value, min, max);
              if (!number) {
                return "expected a whole number from " + std::to_string(min) + " to " +
                       std::to_string(max) + ", got " + quote_input(value);
              }
              target = static_cast<unsigned>(*number);
              return std::string();
            });
}

void Options::add_text(std::string name, std::string metavar, std::string help,
                       std::string& target) {
  add_value(std::move(name), std::move(metavar), std::move(help),
            [&target](std::string_view value) {
              if (value.empty()) return std::string("expected a value, got ''");
              target = std::string(value);
              return std::string();
            });
}

const Options::Option* Options::find(std::string_view name) const {
  for (const Option& option : options_) {
    if (option.name == name) return &option;
  }
  return nullptr;
}

Options::Result Options::parse(int argc, const char* const* argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") return {Outcome::help, ""};
    if (arg == "--version") return {Outcome::version, ""};
    if (arg.substr(0, 2) != "--" || arg.size() == 2) {
      // Not quoted: a stray word is often a value meant for the option before it, and that
      // may be a camera's URL with its password (--skip-unchanged http://user:pw@...).
      return {Outcome::error, "unexpected argument " + std::to_string(i) +
                                  " (not an option: options begin with --)"};
    }
    const std::size_t eq = arg.find('=');
    const std::string_view name = arg.substr(2, eq == std::string_view::npos ? eq : eq - 2);
    const Option* option = find(name);
    if (option == nullptr) {
      return {Outcome::error, "unknown option " + quote_input("--" + std::string(name))};
    }
    std::optional<std::string_view> value;
    if (option->kind == Kind::flag) {
      if (eq != std::string_view::npos) {
        return {Outcome::error, "option --" + option->name + " takes no value"};
      }
    } else if (eq != std::string_view::npos) {
      value = arg.substr(eq + 1);
    } else if (option->kind == Kind::optional_value) {
      // Left out: the next argument is another option or a stray word, never this value.
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return {Outcome::error,
              "option --" + option->name + " needs a value (" + option->metavar + ")"};
    }
    const std::string error = option->apply(value);
    if (!error.empty()) return {Outcome::error, "option --" + option->name + ": " + error};
  }
  return {Outcome::run, ""};
}

std::string Options::help_text() const {
  std::string text = "Usage: " + program_ + " [OPTIONS]\n" + summary_ + "\n\nOptions:\n";
  for (const Option& option : options_) {
    std::string left = "  --" + option.name;
    if (option.kind == Kind::value) left += " " + option.metavar;
    if (option.kind == Kind::optional_value) left += "[=" + option.metavar + "]";
    if (left.size() < 28)
      left.resize(28, ' ');
    else
      left += "\n" + std::string(28, ' ');
    text += left + option.help + "\n";
  }
  text += "  --help                    show this help and exit\n";
  text += "  --version                 show the version and exit\n";
  return text;
}

}  // namespace pushcgi
