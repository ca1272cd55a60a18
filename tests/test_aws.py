"""ProcessClient: one boto3 client per process, shared by threads, remade after a fork."""

from concurrent.futures import ThreadPoolExecutor

from botocore.config import Config

from photogallery import aws
from photogallery.aws import ProcessClient

CONFIG = Config(region_name="us-east-1")


def test_one_client_is_made_for_all_threads():
    holder = ProcessClient("sqs", config=CONFIG, endpoint_url="http://127.0.0.1:9")
    with ThreadPoolExecutor(max_workers=8) as pool:
        clients = list(pool.map(lambda _: holder.get(), range(32)))
    assert len({id(client) for client in clients}) == 1
    assert clients[0].meta.endpoint_url == "http://127.0.0.1:9"


def test_a_forked_process_makes_its_own_client(monkeypatch):
    holder = ProcessClient("s3", config=CONFIG)
    parent = holder.get()
    monkeypatch.setattr(aws.os, "getpid", lambda: -1)  # as a uWSGI worker after fork sees it
    child = holder.get()
    assert child is not parent and holder.get() is child


def test_an_injected_client_is_kept_even_after_a_fork(monkeypatch):
    injected = object()
    holder = ProcessClient("rekognition", config=CONFIG, client=injected)
    monkeypatch.setattr(aws.os, "getpid", lambda: -1)
    assert holder.get() is injected
