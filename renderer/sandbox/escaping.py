"""How an HTML template escapes what it prints: markupsafe's escaping, without making a Markup of each value.

With autoescape on, Jinja's generated code wraps every ``{{ ... }}`` in
``markupsafe.escape``, which builds a ``Markup`` object around the escaped
text; an email prints about 35 values, and building those objects in Python
cost more than escaping them. What a print statement escapes is only ever
joined into the output (or into a buffer that becomes ``Markup`` as a whole:
``{% set %}`` blocks, macro bodies, ``{% filter %}``), so a plain ``str``
with the same characters serves as well. :func:`escape_output` gives exactly
``markupsafe.escape``'s text: the same characters replaced, ``__html__``
honoured, other values converted with ``str`` first.

The sandbox's code generator (``budget.BudgetCodeGenerator``) binds the
name ``escape`` of each render function to it, in every environment; only
those that autoescape (the HTML one) call it. Other uses of escaping (the
``e`` filter, ``Markup`` operations) are Jinja's and markupsafe's own.
"""

from __future__ import annotations

from typing import Any

import markupsafe

# markupsafe's C escaping (its pure-Python twin where the extension is not built), the function
# markupsafe.escape itself calls; not part of its documented API, so absent means escape() itself.
_escape_text = getattr(markupsafe, "_escape_inner", None)


def _escape_output(value: Any) -> str:
    if type(value) is str:
        return _escape_text(value)
    html = getattr(value, "__html__", None)
    if html is not None:
        return str(html())
    return _escape_text(str(value))


escape_output = _escape_output if callable(_escape_text) else markupsafe.escape
"""``markupsafe.escape(value)``'s text, as a ``str`` (see the module's docstring)."""
