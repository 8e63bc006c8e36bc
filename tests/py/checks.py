"""What the SDK check scripts share: a failed check, an expected error, and running a list of checks with one
line each (`ok   name: detail` or `FAIL name: reason`), then `all checks passed`; the exit status is 1 at the
first failure."""

import traceback


class CheckFailed(Exception):
    pass


def check(condition, message):
    if not condition:
        raise CheckFailed(message)


def expect_error(kind, call, **attrs):
    """Runs `call`, which must raise `kind` with these attribute values; returns the error."""
    try:
        call()
    except kind as err:
        for name, want in attrs.items():
            got = getattr(err, name, None)
            check(got == want, f"{kind.__name__}.{name}: expected {want!r}, got {got!r} ({err})")
        return err
    except Exception as err:  # noqa: BLE001 - the wrong kind of error is the failure being reported
        raise CheckFailed(f"expected {kind.__name__}, got {type(err).__name__}: {err}") from err
    raise CheckFailed(f"expected {kind.__name__}, but the call succeeded")


def run_checks(checks):
    """`checks`: (name, function returning a detail) pairs, run in order; 0 when all passed, else 1."""
    for name, run in checks:
        try:
            detail = run()
        except CheckFailed as err:
            print(f"FAIL {name}: {err}", flush=True)
            return 1
        except Exception as err:  # noqa: BLE001 - any SDK error is a failed check, reported with its trace
            print(f"FAIL {name}: {type(err).__name__}: {err}", flush=True)
            traceback.print_exc()
            return 1
        print(f"ok   {name}: {detail}", flush=True)
    print("all checks passed", flush=True)
    return 0
