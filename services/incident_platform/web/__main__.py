"""``python -m incident_platform.web --host H --port P``."""

from incident_platform.entrypoints.serve import serve


def main() -> None:
    serve("incident_platform.web.app:build_app", default_port=8080)


if __name__ == "__main__":
    main()
