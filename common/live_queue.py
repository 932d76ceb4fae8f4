"""The message queue that carries live events between the site's processes (Redis), made to
ride out a Redis outage.

python-socketio's RedisManager already delivers an event to this process's own pages before it
publishes it for the others. While Redis is away that is all that can be done: this manager
then tries to publish only every few seconds (each try costs the request that emits), says so in
the log once, and tells this process's pages that live updates from other workstations are
interrupted (`live-interrupted`; base.html's banner). Its listening thread reconnects by itself;
when it is subscribed again (or a publish goes through) the pages hear `live-restored`, hide the
banner and read every live region again, since they missed what the other processes did meanwhile.

It carries one message of the site's own besides python-socketio's: `recheck` a room, by which
every process drops the sockets there whose login session has ended (common/live.py,
drop_ended_sessions); python-socketio can disconnect one socket anywhere, not a room.
"""
import logging
import time
from collections.abc import Iterator
from typing import Any

import redis
import socketio
from engineio import json

logger = logging.getLogger(__name__)
INTERRUPTED, RESTORED = "live-interrupted", "live-restored"
EVENTS = (INTERRUPTED, RESTORED)  # the queue's own, to every page of this process
RECHECK = "library-desk-recheck"  # the site's own message between the processes (not an event)
RECHECK_BYTES = RECHECK.encode()  # as Redis hands messages over
RETRY_SECONDS_MAX = 10  # how long at most between two tries to reach Redis again


class LiveMessageQueue(socketio.RedisManager):
    def __init__(self, url: str, channel: str) -> None:
        # A Redis host that does not answer must not hold a request: give up connecting soon.
        super().__init__(url, channel=channel, redis_options={"socket_connect_timeout": 2})
        self.interrupted = False
        self.next_try = 0.0
        self.on_recheck = None  # (room, namespace) -> None: set by common/live.py

    def recheck(self, room, namespace="/"):
        """Ask the other processes to check the sockets in `room` (this one checks its own)."""
        self._publish({"method": RECHECK, "room": room, "namespace": namespace, "host_id": self.host_id})

    def _heard_recheck(self, data):
        """Is this message a recheck (handled here, never passed on to python-socketio)?"""
        try:
            message = json.loads(data)
        except ValueError:
            return False
        if not isinstance(message, dict) or message.get("method") != RECHECK:
            return False
        if message.get("host_id") != self.host_id and self.on_recheck is not None:
            self.on_recheck(message.get("room"), message.get("namespace") or "/")
        return True

    def _publish(self, data: Any) -> int | None:
        if self.interrupted and time.monotonic() < self.next_try:
            return None  # lost for the other processes, as it would be after a failed try
        try:
            published = self.redis.publish(self.channel, json.dumps(data))
        except redis.RedisError as error:
            self.next_try = time.monotonic() + RETRY_SECONDS_MAX
            self._interrupt(error)
            return None
        if self.interrupted:
            self._restore()
        return published

    def _listen(self) -> Iterator[bytes]:
        # Subscribing is inside the retries: a process started while Redis is away keeps trying.
        channel = self.channel.encode("utf-8")
        wait, fresh = 1, True
        while True:
            try:
                if not fresh:
                    self._redis_connect()
                self.pubsub.subscribe(self.channel)
                if self.interrupted:
                    self._restore()
                wait = 1
                for message in self.pubsub.listen():
                    if message["channel"] == channel and message["type"] == "message" and "data" in message:
                        data = message["data"]
                        if RECHECK_BYTES in data and self._heard_recheck(data):
                            continue
                        yield data
            except redis.RedisError as error:
                self._interrupt(error)
                fresh = False
                time.sleep(wait)
                wait = min(wait * 2, RETRY_SECONDS_MAX)

    def _interrupt(self, error: Exception) -> None:
        if self.interrupted:
            return
        self.interrupted = True
        logger.warning("Redis does not answer (%s): live updates reach only this process's pages until it does", error)
        self._tell_local_pages(INTERRUPTED)

    def _restore(self) -> None:
        self.interrupted = False
        logger.warning("Redis answers again: live updates between the processes are restored")
        self._tell_local_pages(RESTORED)

    def _tell_local_pages(self, event: str) -> None:
        tell_local_pages(self, event)


def tell_local_pages(manager: socketio.Manager, event: str) -> None:
    """Every page connected to this process (not the others) hears `event`."""
    for namespace in list(manager.get_namespaces()):
        manager.emit("live", {"event": event, "data": {}}, namespace=namespace, ignore_queue=True)


def interrupted(server: socketio.Server) -> bool:
    """Is the live message queue of this process away (for a page that connects meanwhile)?"""
    return getattr(server.manager, "interrupted", False)
