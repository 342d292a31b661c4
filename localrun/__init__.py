"""Running news-ingest from its checkout: `make demo` (`demo`), the local S3 endpoint of the demo and the tests
(`local_s3`, moto's server), and `make airflow`'s launcher (`local_airflow`).

Not part of the installed package (`make dist` leaves it out, `tests/test_packaging.py` checks): a host Airflow
that installs the wheel never imports moto or the demo site.
"""
