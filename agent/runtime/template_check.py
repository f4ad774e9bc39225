"""A chat template tried before any model is loaded: parsed and rendered over a short chat in
the Jinja sandbox llama-cpp-python's formatter uses (so `config show` needs no llama.cpp)."""

from __future__ import annotations

from jinja2 import BaseLoader
from jinja2.exceptions import SecurityError, TemplateError, TemplateSyntaxError
from jinja2.sandbox import ImmutableSandboxedEnvironment

_SAMPLE = [
    {"role": "system", "content": "You are Hearth."},
    {"role": "user", "content": "hello"},
    {"role": "assistant", "content": "Hi!"},
    {"role": "user", "content": "how are you?"},
]


def _refuse(message: str) -> None:
    raise TemplateError(message)


def template_problem(source: str) -> str | None:
    """What is wrong with a chat template, in words (None: it renders a chat)."""
    env = ImmutableSandboxedEnvironment(loader=BaseLoader(), trim_blocks=True, lstrip_blocks=True)
    try:
        prompt = env.from_string(source).render(
            messages=_SAMPLE,
            bos_token="",
            eos_token="",
            add_generation_prompt=True,
            raise_exception=_refuse,
        )
    except TemplateSyntaxError as exc:
        return f"is not valid Jinja ({exc.message}, line {exc.lineno})"
    except SecurityError as exc:
        return f"does what the template sandbox forbids ({exc})"
    except (TemplateError, TypeError, ValueError) as exc:
        return f"refuses a plain chat ({exc})"
    if "how are you?" not in prompt:
        return "leaves out the messages it is given"
    return None
