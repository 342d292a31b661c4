from news_ingest_dags.news_daily import news_daily_dag  # noqa: F401  (an Airflow DAG of news-ingest)
from news_ingest_dags.news_maintenance import news_maintenance_dag  # noqa: F401
