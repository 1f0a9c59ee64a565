/**
 * CRC-32 as in IEEE 802.3, zlib, PNG and gzip (ISO-HDLC): reflected polynomial
 * 0x04C11DB7 (0xEDB88320 reflected), initial value and final XOR 0xFFFFFFFF.
 * Check value: crc32(ascii("123456789")) = 0xCBF43926. Internal to the sdk:
 * used by publication codes to catch copying mistakes, never for integrity.
 */

const POLY_REFLECTED = 0xedb88320;

const TABLE = new Uint32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? POLY_REFLECTED ^ (c >>> 1) : c >>> 1;
  TABLE[n] = c;
}

/**
 * CRC-32 of `data` as an unsigned 32-bit number. `previous` continues an earlier
 * CRC, as zlib's crc32(data, value) does: crc32(b, crc32(a)) === crc32(a || b).
 */
export function crc32(data: Uint8Array, previous = 0): number {
  let c = (previous ^ 0xffffffff) >>> 0;
  for (let i = 0; i < data.length; i++) c = TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
