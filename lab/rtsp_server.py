#!/usr/bin/python3
"""Camera lab RTSP server: one process, one GstRTSPServer (own port) per simulated camera.

Run with /usr/bin/python3 (needs python3-gi). Config comes as JSON in argv[1]. Control is JSON
lines: commands on stdin, replies and events on stdout. The process exits when stdin closes, so
a dead parent never leaves it behind.
"""
import json
import math
import secrets
import sys
import time

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402

Gst.init(None)

# smpte100: full-height bars; plain "smpte" has a snow patch that would never freeze.
PATTERN_BARS, PATTERN_BLACK, PATTERN_SOLID = 19, 2, 17
COVER_COLOR = 0xFF3C3630  # dark, textureless: a hand or cloth over the lens
BEIJING = 8 * 3600

DEFAULT_STATE = {
    "offline": False,
    "stalled": False,
    "black": False,
    "frozen": False,
    "blurred": False,
    "covered": False,
    "moved": False,
    "lowFps": False,
    "lowBitrate": False,
    "lowResolution": False,
    "skewMs": 0,
    "wrongCredentials": False,
    "change": None,
}


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def log(msg):
    sys.stderr.write("[rtsp-lab] %s\n" % msg)
    sys.stderr.flush()


class Stream:
    """One mount (main or sub) of one camera; tracks the pipelines built for it."""

    def __init__(self, cam, kind, width, height, bitrate):
        self.cam = cam
        self.kind = kind
        self.width = width
        self.height = height
        self.bitrate = bitrate
        self.medias = []  # list of dicts: {media, el: {name: element}, count, feed}


class Camera:
    def __init__(self, lab, spec):
        self.lab = lab
        self.id = spec["id"]
        self.name = spec["name"]
        self.username = spec["username"]
        self.password = spec["password"]
        # The lab's own account (snapshots); never touched by the wrong_credentials fault.
        self.internal_user = spec.get("internalUser")
        self.internal_password = spec.get("internalPassword")
        self.state = dict(DEFAULT_STATE)
        self.frozen_text = None
        # Room mode: the camera's own scene loops; scale mode: the lab's.
        self.variants = lab.load_variants(spec["variants"]) if spec.get("variants") else lab.variants
        self.server = GstRtspServer.RTSPServer()
        self.server.props.service = "0"
        self.source_id = None
        self.port = None
        self.streams = {
            "main": Stream(self, "main", lab.width, lab.height, lab.main_kbps),
            "sub": Stream(self, "sub", lab.sub_width, lab.sub_height, lab.sub_kbps),
        }
        mounts = self.server.get_mount_points()
        for stream in self.streams.values():
            mounts.add_factory("/%s/%s" % (self.id, stream.kind), self.make_factory(stream))
        self.set_auth(self.password)
        self.server.connect("client-connected", self.on_client_connected)
        self.up()

    # --- auth -------------------------------------------------------------------------------
    def set_auth(self, password):
        auth = GstRtspServer.RTSPAuth()
        token = GstRtspServer.RTSPToken()
        token.set_string("media.factory.role", "user")
        auth.add_digest(self.username, password, token)
        if self.internal_user:
            auth.add_digest(self.internal_user, self.internal_password, token)
        # Digest only, as cameras ship today (PyGObject cannot pass DIGEST|BASIC to this enum).
        auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
        auth.set_realm("IP Camera(%s)" % self.id)
        self.server.set_auth(auth)

    # --- listening socket -------------------------------------------------------------------
    def up(self):
        if self.source_id is not None:
            return
        if self.port:
            # Come back on the same port, as a rebooted camera keeps its address.
            self.server.props.service = str(self.port)
        source_id = self.server.attach(None)
        if source_id == 0:
            # The port is briefly taken (a client's socket got it while we were down): retry,
            # rather than stay down for good.
            log("camera %s: port %s busy, retrying" % (self.id, self.port))
            GLib.timeout_add(200, self.retry_up)
            return
        self.source_id = source_id
        self.port = self.server.get_bound_port()

    def retry_up(self):
        if not self.state["offline"]:
            self.up()
        return False

    def down(self):
        if self.source_id is None:
            return
        GLib.source_remove(self.source_id)  # closes the listening socket: connections refused
        self.source_id = None
        self.server.client_filter(lambda _s, _c: GstRtspServer.RTSPFilterResult.REMOVE)

    # --- media ------------------------------------------------------------------------------
    def make_factory(self, stream):
        factory = GstRtspServer.RTSPMediaFactory()
        factory.set_shared(True)  # one encoder per mount whatever the number of viewers
        # A live camera cannot seek. A seekable shared media honours each new client's PLAY
        # `Range: npt=0-` with a flushing seek that restarts the timestamps of every viewer already
        # watching; publishing the clock (RFC 7273) is what makes gst-rtsp-server refuse the seek.
        factory.set_publish_clock_mode(GstRtspServer.RTSPPublishClockMode.CLOCK_AND_OFFSET)
        factory.set_launch(self.lab.launch_for(stream))
        factory.add_role_from_structure(
            Gst.Structure.from_string(
                "user, media.factory.access=(boolean)true, media.factory.construct=(boolean)true"
            )[0]
        )
        factory.connect("media-configure", self.on_media_configure, stream)
        return factory

    def on_media_configure(self, _factory, media, stream):
        bin_ = media.get_element()
        names = ["src", "box", "mark", "blurcaps", "osd", "outcaps", "enc", "appsrc"]
        entry = {"media": media, "el": {}, "count": 0, "feed": {"variant": None, "idx": 0, "tick": 0}}
        for n in names:
            el = bin_.get_by_name(n)
            if el is not None:
                entry["el"][n] = el
        stream.medias.append(entry)
        media.connect("unprepared", self.on_media_unprepared, stream, entry)
        enc = entry["el"].get("enc")
        if enc is not None:
            enc.get_static_pad("src").add_probe(Gst.PadProbeType.BUFFER, self.on_encoded, entry)
        self.apply_entry(stream, entry)

    def on_client_connected(self, _server, client):
        client.connect("play-request", self.on_play_request)

    def on_play_request(self, _client, ctx):
        # A viewer joining the shared media starts at a keyframe, as cameras do, instead of
        # decoding half a GOP of pictures that refer to frames it never received.
        for stream in self.streams.values():
            for entry in stream.medias:
                if entry["media"] == ctx.media:
                    self.key_unit(entry)

    def on_media_unprepared(self, _media, stream, entry):
        if entry in stream.medias:
            stream.medias.remove(entry)

    def on_encoded(self, _pad, _info, entry):
        entry.setdefault("sent", 0)
        # The first encoded frame always passes so a new session can be described and played.
        if self.state["stalled"] and entry["sent"] > 0:
            return Gst.PadProbeReturn.DROP
        entry["sent"] += 1
        return Gst.PadProbeReturn.OK

    # --- state ------------------------------------------------------------------------------
    def set_state(self, new_state):
        old = self.state
        self.state = dict(DEFAULT_STATE)
        self.state.update(new_state)
        if self.state["frozen"] and not old["frozen"]:
            self.frozen_text = self.osd_text()
        if self.state["wrongCredentials"] != old["wrongCredentials"]:
            self.set_auth(secrets.token_hex(8) if self.state["wrongCredentials"] else self.password)
        if self.state["offline"]:
            self.down()
        else:
            self.up()
        for stream in self.streams.values():
            for entry in list(stream.medias):
                self.apply_entry(stream, entry)
        if old["stalled"] and not self.state["stalled"]:
            self.force_keyframe()

    def force_keyframe(self):
        # Viewers that lost frames while stalled need an IDR to decode again.
        for stream in self.streams.values():
            for entry in stream.medias:
                self.key_unit(entry)

    def key_unit(self, entry):
        enc = entry["el"].get("enc")
        if enc is None:
            # Scale mode: every loop starts with an IDR (SPS/PPS in band).
            entry["feed"]["idx"] = 0
            return
        ev = Gst.Event.new_custom(
            Gst.EventType.CUSTOM_UPSTREAM,
            Gst.Structure.from_string("GstForceKeyUnit, all-headers=(boolean)true")[0],
        )
        enc.get_static_pad("src").send_event(ev)

    def apply_entry(self, stream, entry):
        if self.lab.mode == "scale":
            variant = self.lab.variant_name(self.state)
            if variant not in self.variants[stream.kind]:
                variant = "normal"
            if entry["feed"]["variant"] != variant:
                entry["feed"].update(variant=variant, idx=0)
            return
        s = self.state
        el = entry["el"]
        w, h, fps = stream.width, stream.height, self.lab.fps
        src = el["src"]
        if s["black"]:
            src.set_property("pattern", PATTERN_BLACK)
        elif s["covered"]:
            src.set_property("pattern", PATTERN_SOLID)
            src.set_property("foreground-color", COVER_COLOR)
        else:
            src.set_property("pattern", PATTERN_BARS)
        # The marker is part of the scene: a dead sensor or a covered lens hides it too.
        el["mark"].set_property("silent", bool(s["black"] or s["covered"]))
        # Blur: the scene (not the OSD, drawn after the lens) shrunk to 1/16 and blown up again.
        sw, sh = (max(8, w // 16), max(8, h // 16)) if s["blurred"] else (w, h)
        set_caps(el["blurcaps"], "video/x-raw,width=%d,height=%d" % (sw, sh))
        # Moved: crop on one side and pad on the other, so the scene shifts at constant size.
        dx, dy = (w // 4, h // 5) if s["moved"] else (0, 0)
        box = el["box"]
        box.set_property("left", dx)
        box.set_property("right", -dx)
        box.set_property("top", dy)
        box.set_property("bottom", -dy)
        div = (4 if stream.kind == "main" else 2) if s["lowResolution"] else 1
        ow, oh = (w // div) & ~1, (h // div) & ~1
        # Low frame rate: videorate drops to 2 fps, as a camera short of light or CPU does.
        rate = min(2, fps) if s["lowFps"] else fps
        set_caps(el["outcaps"], "video/x-raw,width=%d,height=%d,framerate=%d/1" % (ow, oh, rate))
        el["enc"].set_property("bitrate", max(16, stream.bitrate // 24) if s["lowBitrate"] else stream.bitrate)
        self.update_overlay(entry)

    def osd_text(self):
        t = time.time() + self.state["skewMs"] / 1000.0 + BEIJING
        return "%s  %s" % (self.name, time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t)))

    def update_overlay(self, entry):
        el = entry["el"]
        if "osd" not in el:
            return
        if self.state["frozen"]:
            el["osd"].set_property("text", self.frozen_text or "")
            return
        el["osd"].set_property("text", self.osd_text())
        # The marker circles the frame: the moving part of the scene.
        phase = (time.time() % 4.0) / 4.0 * 2 * math.pi
        el["mark"].set_property("xpos", 0.5 + 0.3 * math.cos(phase))
        el["mark"].set_property("ypos", 0.55 + 0.25 * math.sin(phase))

    def tick_live(self):
        for stream in self.streams.values():
            for entry in stream.medias:
                self.update_overlay(entry)

    def tick_scale(self):
        for stream in self.streams.values():
            for entry in stream.medias:
                self.lab.feed(stream, entry, self.state)


def set_caps(capsfilter, caps_str):
    current = capsfilter.get_property("caps")
    if current is None or current.to_string() != Gst.Caps.from_string(caps_str).to_string():
        capsfilter.set_property("caps", Gst.Caps.from_string(caps_str))


class Lab:
    def __init__(self, cfg):
        self.mode = cfg.get("mode", "live")
        self.width = cfg["width"]
        self.height = cfg["height"]
        self.sub_width = cfg["subWidth"]
        self.sub_height = cfg["subHeight"]
        self.fps = cfg["fps"]
        self.main_kbps = cfg.get("mainKbps", 2048)
        self.sub_kbps = cfg.get("subKbps", 512)
        self.variants = {}
        self.loaded = {}  # path -> access units, shared by the cameras showing the same scene
        if self.mode == "scale" and cfg.get("variants"):
            self.variants = self.load_variants(cfg["variants"])
        self.cameras = {}
        for spec in cfg["cameras"]:
            self.cameras[spec["id"]] = Camera(self, spec)
        interval = 100 if self.mode == "live" else 20
        GLib.timeout_add(interval, self.on_tick)

    def launch_for(self, stream):
        if self.mode == "scale":
            return (
                "( appsrc name=appsrc is-live=true format=time "
                "caps=video/x-h264,stream-format=byte-stream,alignment=au "
                "! rtph264pay name=pay0 pt=96 config-interval=-1 )"
            )
        w, h, fps = stream.width, stream.height, self.fps
        font = max(10, h // 30)
        # The marker is sized by the picture's height, not textoverlay's auto-resize (which scales by
        # width from 640): at 320x240 it was so small that its move touched two tiles of the picture
        # checks, and the noiseless test pattern read as frozen.
        marker = max(12, h // 5)
        return (
            "( videotestsrc name=src is-live=true pattern=smpte100 "
            "! video/x-raw,width={w},height={h},framerate={fps}/1 "
            "! videobox name=box "
            "! textoverlay name=mark text=\u25cf font-desc=\"Sans {mf}\" auto-resize=false valignment=position "
            "halignment=position xpos=0.5 ypos=0.5 "
            "! videoscale ! capsfilter name=blurcaps caps=video/x-raw,width={w},height={h} "
            "! videoscale ! video/x-raw,width={w},height={h} "
            "! textoverlay name=osd font-desc=\"DejaVu Sans Mono {f}\" valignment=top halignment=left "
            "shaded-background=true "
            "! videoscale ! videorate drop-only=true "
            "! capsfilter name=outcaps caps=video/x-raw,width={w},height={h},framerate={fps}/1 "
            # One thread, so one slice per picture: zerolatency's sliced threads cut each picture
            # into slices, and config-interval=-1 then puts SPS/PPS between the slices of an IDR,
            # which players take for the start of a new picture (keyframes arrive split, smeared).
            "! x264enc name=enc tune=zerolatency speed-preset=ultrafast threads=1 bitrate={br} "
            "key-int-max={gop} "
            "! video/x-h264,profile=constrained-baseline,stream-format=byte-stream,alignment=au "
            "! rtph264pay name=pay0 pt=96 config-interval=-1 )"
        ).format(w=w, h=h, fps=fps, f=font, mf=marker, br=stream.bitrate, gop=fps)

    # --- scale mode: pre-encoded access units looped from memory ------------------------------
    def load_variants(self, spec):
        out = {}
        for kind, by_name in spec.items():
            out[kind] = {}
            for name, v in by_name.items():
                if v["path"] not in self.loaded:
                    with open(v["path"], "rb") as f:
                        self.loaded[v["path"]] = split_access_units(f.read())
                out[kind][name] = {"aus": self.loaded[v["path"]], "every": v.get("every", 1)}
        return out

    def variant_name(self, s):
        for key, name in (
            ("black", "black"),
            ("covered", "covered"),
            ("frozen", "frozen"),
            ("blurred", "blurred"),
            ("moved", "moved"),
            ("lowResolution", "low_resolution"),
            ("lowBitrate", "low_bitrate"),
            ("lowFps", "low_fps"),
        ):
            if s[key]:
                return name
        return s.get("change") or "normal"

    def feed(self, stream, entry, state):
        appsrc = entry["el"].get("appsrc")
        feed = entry["feed"]
        if appsrc is None or feed["variant"] is None:
            return
        now = time.monotonic()
        if "t0" not in feed:
            # Running time, once the pipeline has one. A pipeline on its way to PLAYING has its clock
            # before its base time: clock minus a base time of 0 put the first frames minutes in the
            # future, and the client waited for them ("no answer within 20000 ms", ~1 in 20 sessions).
            clock = appsrc.get_clock()
            base_time = appsrc.get_base_time()
            base = clock.get_time() - base_time if clock is not None and base_time > 0 else 0
            feed.update(t0=now, n=0, base=base)
        # Timestamps from the frame count, not the timer: the stream keeps its exact nominal rate.
        dur = Gst.SECOND // self.fps
        due = int((now - feed["t0"]) * self.fps) + 1
        while feed["n"] < due:
            n = feed["n"]
            feed["n"] += 1
            if state["stalled"] and entry["count"] > 0:
                continue
            variant = stream.cam.variants[stream.kind][feed["variant"]]
            if n % variant["every"] != 0:
                continue
            aus = variant["aus"]
            au = aus[feed["idx"] % len(aus)]
            feed["idx"] = (feed["idx"] + 1) % len(aus)
            entry["count"] += 1
            buf = Gst.Buffer.new_wrapped(au)
            buf.pts = feed["base"] + n * dur
            buf.duration = dur * variant["every"]
            appsrc.emit("push-buffer", buf)

    def on_tick(self):
        for cam in self.cameras.values():
            if self.mode == "live":
                cam.tick_live()
            else:
                cam.tick_scale()
        return True

    # --- control channel ----------------------------------------------------------------------
    def handle(self, msg):
        cmd = msg.get("cmd")
        if cmd == "state":
            self.cameras[msg["cam"]].set_state(msg["state"])
            return {}
        if cmd == "ping":
            return {}
        raise ValueError("unknown command %r" % cmd)

    def ports(self):
        return {cid: cam.port for cid, cam in self.cameras.items()}


def split_access_units(data):
    """Split an Annex B stream written with x264 aud=1 into access units (one per AUD NAL)."""
    marks = []
    i = data.find(b"\x00\x00\x01\x09")
    while i >= 0:
        start = i - 1 if i > 0 and data[i - 1] == 0 else i
        marks.append(start)
        i = data.find(b"\x00\x00\x01\x09", i + 4)
    if not marks:
        raise ValueError("no access unit delimiters in variant file")
    marks.append(len(data))
    return [data[marks[k] : marks[k + 1]] for k in range(len(marks) - 1)]


def main():
    cfg = json.loads(sys.argv[1])
    loop = GLib.MainLoop()
    lab = Lab(cfg)
    # The server's own periodic cleanup of expired sessions.
    for cam in lab.cameras.values():
        GLib.timeout_add_seconds(2, lambda c=cam: (c.server.get_session_pool().cleanup(), True)[1])

    stdin = GLib.IOChannel.unix_new(sys.stdin.fileno())

    def on_stdin(channel, condition):
        if condition & (GLib.IO_HUP | GLib.IO_ERR):
            loop.quit()
            return False
        line = channel.readline()
        if not line:
            loop.quit()
            return False
        try:
            msg = json.loads(line)
        except ValueError:
            return True
        try:
            reply = lab.handle(msg)
            reply.update(id=msg.get("id"), ok=True)
        except Exception as exc:  # report any failure back instead of dying
            reply = {"id": msg.get("id"), "ok": False, "error": str(exc)}
        emit(reply)
        return True

    GLib.io_add_watch(stdin, GLib.PRIORITY_DEFAULT, GLib.IO_IN | GLib.IO_HUP | GLib.IO_ERR, on_stdin)
    emit({"event": "ready", "ports": lab.ports()})
    loop.run()


if __name__ == "__main__":
    main()
