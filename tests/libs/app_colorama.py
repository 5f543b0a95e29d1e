# requires: colorama (python3-colorama)
"""colorama: Fore/Back/Style codes, AnsiToWin32 stream wrapping (stripping), init/deinit."""
import io

import colorama
from colorama import AnsiToWin32, Back, Fore, Style

print(repr(Fore.RED + "red" + Style.RESET_ALL), repr(Back.GREEN + Style.BRIGHT))
buf = io.StringIO()
w = AnsiToWin32(buf, strip=True, convert=False)
w.write(Fore.BLUE + "plain" + Style.RESET_ALL + "\n")
print(repr(buf.getvalue()), w.should_wrap())
colorama.just_fix_windows_console() if hasattr(colorama, "just_fix_windows_console") else colorama.init()
print(repr(colorama.ansi.clear_screen()), colorama.__version__)
