"""Waiting for a condition in a page that runs under the Content-Security-Policy.

Playwright's page.wait_for_function polls by eval() of the expression inside the page, which
the policy (script-src 'self', no 'unsafe-eval') refuses: "EvalError: Evaluating a string as
JavaScript violates the following Content Security Policy directive". page.evaluate goes
through the DevTools protocol, which the policy does not restrict, so polling from here works.
"""

import time
from collections.abc import Callable


def wait_until(page, expression: str, seconds: float = 20.0):
    """The expression's first truthy value in the page, polled every 0.1 s (AssertionError after
    `seconds`). A drop-in for page.wait_for_function(expression)."""
    deadline = time.monotonic() + seconds
    while not (value := page.evaluate(expression)):
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {seconds} s: {expression}")
        page.wait_for_timeout(100)  # Playwright's own wait: its event loop keeps running
    return value


def pump_until(page, condition, failure: str | Callable[[], str], seconds: float = 15.0) -> None:
    """Waits until condition() (a test-side check, as a frame or a request seen) holds, in
    Playwright's own waits so its events and routes go on being handled; AssertionError(failure)
    after `seconds`. A callable `failure` is asked at the failure, so it can tell what was seen
    by then (an f-string would tell what was seen when the wait began)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(failure() if callable(failure) else failure)
        page.wait_for_timeout(100)


def hold_first_read(page, pattern: str) -> list:
    """The first request to `pattern` from now on is answered by the server but held back from
    the page, as a read still in flight: (route, answer) in the list returned, for the test to
    give with route.fulfill(response=answer) when it chooses; later requests pass."""
    held: list = []

    def hold(route):
        if held:
            route.continue_()
        else:
            held.append((route, route.fetch()))

    page.route(pattern, hold)
    return held


def drop_first_request(page, pattern: str) -> list[str]:
    """The first request to `pattern` from now on gets no answer (the line drops: the connection
    is reset), its URL in the list returned; later requests pass."""
    dropped: list[str] = []

    def drop(route):
        if dropped:
            route.continue_()
        else:
            dropped.append(route.request.url)
            route.abort("connectionreset")

    page.route(pattern, drop)
    return dropped
