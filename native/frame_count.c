// frame-count: decodes MPEG-TS segments in full and says, per segment, how many video frames it decodes to
// and their size: what the gateway's sampled decode needs to check an orchestrator's pixel count. It runs
// as one long-lived process (src/media/frameCounter.ts) instead of an ffmpeg per decode, which with a
// dynamically linked ffmpeg spends about as long resolving its ~200 libraries' symbols as decoding.
//
// Requests on stdin, little-endian: u32 count, then per segment u32 length and its bytes. Answer on stdout,
// one line per segment in order, then "end":
//   "<i> <frames> <width> <height>"   (width and height of the first decoded frame)
//   "<i> error <reason>"              (no video stream, nothing decoded, unreadable)
// Each segment gets a demuxer and decoder of its own, one thread, freed before the next.
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/log.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

/* Bounds on a request: the gateway sends a segment's renditions, a few MB at most. */
#define MAX_SEGMENTS 32
#define MAX_SEGMENT_BYTES (256u << 20)
#define IO_BUFFER_BYTES 65536
/* Bounds on what a hostile segment can make the decoder allocate: frames up to 8K, 4 GiB in all. */
#define MAX_FRAME_PIXELS (7680 * 4320)
#define MAX_ADDRESS_SPACE (4ull << 30)

struct memory_input {
  const uint8_t *data;
  size_t size;
  size_t at;
};

static int read_memory(void *opaque, uint8_t *buf, int want) {
  struct memory_input *in = opaque;
  size_t left = in->size - in->at;
  if (left == 0) return AVERROR_EOF;
  size_t n = left < (size_t)want ? left : (size_t)want;
  memcpy(buf, in->data + in->at, n);
  in->at += n;
  return (int)n;
}

static int read_exactly(void *buf, size_t n) {
  return fread(buf, 1, n, stdin) == n;
}

static int read_u32(uint32_t *v) {
  uint8_t b[4];
  if (!read_exactly(b, 4)) return 0;
  *v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
  return 1;
}

struct count {
  long frames;
  int width;
  int height;
  const char *error;
};

/* Drains the decoder's frames into `c`. */
static void receive_frames(AVCodecContext *dec, AVFrame *frame, struct count *c) {
  while (avcodec_receive_frame(dec, frame) >= 0) {
    if (c->frames == 0) {
      c->width = frame->width;
      c->height = frame->height;
    }
    c->frames++;
    av_frame_unref(frame);
  }
}

static struct count count_frames(const uint8_t *data, size_t size) {
  struct count c = {0, 0, 0, NULL};
  struct memory_input in = {data, size, 0};
  AVFormatContext *fmt = NULL;
  AVIOContext *io = NULL;
  AVCodecContext *dec = NULL;
  AVPacket *pkt = av_packet_alloc();
  AVFrame *frame = av_frame_alloc();
  uint8_t *io_buffer = av_malloc(IO_BUFFER_BYTES);
  int video = -1;
  if (!pkt || !frame || !io_buffer || !(fmt = avformat_alloc_context())) {
    c.error = "out of memory";
    goto done;
  }
  io = avio_alloc_context(io_buffer, IO_BUFFER_BYTES, 0, &in, read_memory, NULL, NULL);
  if (!io) {
    c.error = "out of memory";
    av_free(io_buffer);
    goto done;
  }
  fmt->pb = io;
  fmt->flags |= AVFMT_FLAG_CUSTOM_IO;
  if (avformat_open_input(&fmt, NULL, av_find_input_format("mpegts"), NULL) < 0) {
    c.error = "not MPEG-TS";
    goto done;
  }
  while (av_read_frame(fmt, pkt) >= 0) {
    if (video < 0) {
      // the first video stream the program lists, once its packets start (as `-map 0:v:0` would take it)
      for (unsigned i = 0; i < fmt->nb_streams; i++) {
        if (fmt->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_VIDEO) {
          video = (int)i;
          break;
        }
      }
      if (video >= 0) {
        const AVCodec *codec = avcodec_find_decoder(fmt->streams[video]->codecpar->codec_id);
        if (!codec || !(dec = avcodec_alloc_context3(codec)) || avcodec_parameters_to_context(dec, fmt->streams[video]->codecpar) < 0) {
          c.error = "no decoder for the video stream";
          av_packet_unref(pkt);
          goto done;
        }
        // one thread: the decode shares a core with the gateway; no deblocking: it changes neither the
        // number of frames nor their size, which is all that is checked (15 % less CPU)
        dec->thread_count = 1;
        dec->skip_loop_filter = AVDISCARD_ALL;
        dec->max_pixels = MAX_FRAME_PIXELS;
        if (avcodec_open2(dec, codec, NULL) < 0) {
          c.error = "the video decoder does not open";
          av_packet_unref(pkt);
          goto done;
        }
      }
    }
    if (pkt->stream_index == video) {
      // a packet the decoder rejects is skipped, as ffmpeg goes on past a broken one
      avcodec_send_packet(dec, pkt);
      receive_frames(dec, frame, &c);
    }
    av_packet_unref(pkt);
  }
  if (video < 0) {
    c.error = "no video stream";
    goto done;
  }
  avcodec_send_packet(dec, NULL);
  receive_frames(dec, frame, &c);
  if (c.frames == 0 || c.width <= 0 || c.height <= 0) c.error = "no video frames decoded";
done:
  avcodec_free_context(&dec);
  if (fmt) avformat_close_input(&fmt);
  if (io) {
    av_freep(&io->buffer);
    avio_context_free(&io);
  }
  av_frame_free(&frame);
  av_packet_free(&pkt);
  return c;
}

int main(void) {
  struct rlimit space = {MAX_ADDRESS_SPACE, MAX_ADDRESS_SPACE};
  setrlimit(RLIMIT_AS, &space);
  av_log_set_level(AV_LOG_QUIET);
  uint32_t count;
  while (read_u32(&count)) {
    if (count == 0 || count > MAX_SEGMENTS) {
      fprintf(stderr, "frame-count: %u segments in one request (1 to %d)\n", count, MAX_SEGMENTS);
      return 2;
    }
    for (uint32_t i = 0; i < count; i++) {
      uint32_t size;
      if (!read_u32(&size)) return 0;
      if (size > MAX_SEGMENT_BYTES) {
        fprintf(stderr, "frame-count: a segment of %u bytes (at most %u)\n", size, MAX_SEGMENT_BYTES);
        return 2;
      }
      uint8_t *data = malloc(size ? size : 1);
      if (!data) {
        fprintf(stderr, "frame-count: out of memory\n");
        return 3;
      }
      if (!read_exactly(data, size)) {
        free(data);
        return 0;
      }
      struct count c = size ? count_frames(data, size) : (struct count){0, 0, 0, "empty"};
      free(data);
      if (c.error) printf("%u error %s\n", i, c.error);
      else printf("%u %ld %d %d\n", i, c.frames, c.width, c.height);
    }
    printf("end\n");
    fflush(stdout);
  }
  return 0;
}
