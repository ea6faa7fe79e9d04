//! The smallest WebSocket client (RFC 6455) WebDriver BiDi needs: one
//! connection to a loopback browser, text messages of JSON, std only. Client
//! frames are masked as the RFC requires; the browser's never are. Pings are
//! answered, fragmented messages joined; a close frame ends the connection.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

pub struct WebSocket {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    /// Varies the masking key from frame to frame (the browser does not
    /// check it; masking only has to be present).
    frames: u32,
}

/// The largest message read; a BiDi answer of the suite is a few kilobytes.
const MAX_MESSAGE: u64 = 16 << 20;

impl WebSocket {
    /// Opens `ws://127.0.0.1:{port}{path}`; `timeout` bounds every read.
    pub fn connect(port: u16, path: &str, timeout: Duration) -> Result<WebSocket, String> {
        let stream = TcpStream::connect(("127.0.0.1", port))
            .map_err(|e| format!("connect to 127.0.0.1:{port}: {e}"))?;
        stream.set_read_timeout(Some(timeout)).ok();
        let mut writer = stream.try_clone().map_err(|e| e.to_string())?;
        // Any base64 of 16 bytes is a valid key; the RFC's own example is one.
        let handshake = format!(
            "GET {path} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\nupgrade: websocket\r\nconnection: Upgrade\r\n\
             sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n\r\n"
        );
        writer
            .write_all(handshake.as_bytes())
            .map_err(|e| format!("WebSocket handshake: {e}"))?;
        let mut reader = BufReader::new(stream);
        let mut status = String::new();
        reader
            .read_line(&mut status)
            .map_err(|e| format!("WebSocket handshake: {e}"))?;
        if !status.starts_with("HTTP/1.1 101") {
            return Err(format!("WebSocket handshake refused: {}", status.trim()));
        }
        // The rest of the head, up to its blank line (bounded).
        for _ in 0..100 {
            let mut line = String::new();
            let n = reader
                .read_line(&mut line)
                .map_err(|e| format!("WebSocket handshake: {e}"))?;
            if n == 0 || line == "\r\n" {
                return Ok(WebSocket {
                    reader,
                    writer,
                    frames: 0,
                });
            }
        }
        Err("WebSocket handshake: no end to the response head".to_string())
    }

    /// Sends one text message.
    pub fn send(&mut self, text: &str) -> Result<(), String> {
        self.frame(0x1, text.as_bytes())
    }

    /// The next text message, answering pings on the way.
    pub fn receive(&mut self) -> Result<String, String> {
        let mut message = Vec::new();
        loop {
            let (fin, opcode, payload) = self.read_frame()?;
            match opcode {
                0x0..=0x2 => message.extend_from_slice(&payload),
                0x8 => return Err("the browser closed the WebSocket".to_string()),
                0x9 => self.frame(0xA, &payload)?,
                _ => {} // a pong or a reserved opcode: nothing to do
            }
            if fin && opcode <= 0x2 {
                return String::from_utf8(message).map_err(|e| format!("not UTF-8: {e}"));
            }
        }
    }

    fn frame(&mut self, opcode: u8, payload: &[u8]) -> Result<(), String> {
        self.frames = self.frames.wrapping_add(1);
        let mask = (self.frames.wrapping_mul(0x9E37_79B9) ^ std::process::id()).to_be_bytes();
        let mut frame = vec![0x80 | opcode];
        match payload.len() {
            n if n < 126 => frame.push(0x80 | n as u8),
            n if n <= 0xFFFF => {
                frame.push(0x80 | 126);
                frame.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                frame.push(0x80 | 127);
                frame.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        frame.extend_from_slice(&mask);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        self.writer
            .write_all(&frame)
            .map_err(|e| format!("WebSocket write: {e}"))
    }

    fn read_frame(&mut self) -> Result<(bool, u8, Vec<u8>), String> {
        let mut head = [0u8; 2];
        self.read_exact(&mut head)?;
        let (fin, opcode) = (head[0] & 0x80 != 0, head[0] & 0x0F);
        let length = match head[1] & 0x7F {
            126 => {
                let mut n = [0u8; 2];
                self.read_exact(&mut n)?;
                u64::from(u16::from_be_bytes(n))
            }
            127 => {
                let mut n = [0u8; 8];
                self.read_exact(&mut n)?;
                u64::from_be_bytes(n)
            }
            n => u64::from(n),
        };
        if length > MAX_MESSAGE {
            return Err(format!("WebSocket frame of {length} bytes"));
        }
        let mask = if head[1] & 0x80 != 0 {
            let mut m = [0u8; 4];
            self.read_exact(&mut m)?;
            Some(m)
        } else {
            None
        };
        let mut payload = vec![0u8; length as usize];
        self.read_exact(&mut payload)?;
        if let Some(m) = mask {
            payload
                .iter_mut()
                .enumerate()
                .for_each(|(i, b)| *b ^= m[i % 4]);
        }
        Ok((fin, opcode, payload))
    }

    fn read_exact(&mut self, buffer: &mut [u8]) -> Result<(), String> {
        self.reader
            .read_exact(buffer)
            .map_err(|e| format!("WebSocket read: {e}"))
    }
}
