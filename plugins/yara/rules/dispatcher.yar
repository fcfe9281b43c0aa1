/*
   Copyright 2014-2018 PUNCH Cyber Analytics Group
   Modifications copyright 2026 the stoq authors

   Licensed under the Apache License, Version 2.0 (the "License");
   you may not use this file except in compliance with the License.
   You may obtain a copy of the License at

       http://www.apache.org/licenses/LICENSE-2.0

   Unless required by applicable law or agreed to in writing, software
   distributed under the License is distributed on an "AS IS" BASIS,
   WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
   See the License for the specific language governing permissions and
   limitations under the License.

   Adapted from stoQ v3's yarascan rules/dispatcher.yar (PUNCH-Cyber/stoq-plugins-public,
   branch v3, commit fe933f4): zip_file, ace_file and xor_This_program are stoQ's (the xor meta
   key renamed to the xor_plaintext_for_string_ form the dispatcher reads); the other archive
   rules and base64_text are new. Rules for plugins stoq does not ship yet are left out.

   Dispatch rules: meta.plugin names the plugins (comma list) a matching payload goes to;
   meta.save = "False" keeps the payload out of the dest archivers.
*/

rule zip_file
{
    meta:
        plugin = "decompress"
        save = "True"
    strings:
        $zip1 = { 50 4b 05 06 }
        $zip2 = { 50 4b 03 04 }
        $zip3 = { 50 4b 07 08 }
    condition:
        ($zip1 at 0) or ($zip2 at 0) or ($zip3 at 0)
}

rule gzip_file
{
    meta:
        plugin = "decompress"
        save = "True"
    strings:
        $magic = { 1f 8b 08 }
    condition:
        $magic at 0
}

rule bzip2_file
{
    meta:
        plugin = "decompress"
        save = "True"
    strings:
        // "BZh", a block size digit, then the block magic (pi) or the end-of-stream magic
        $block = { 42 5a 68 3? 31 41 59 26 53 59 }
        $empty = { 42 5a 68 3? 17 72 45 38 50 90 }
    condition:
        $block at 0 or $empty at 0
}

rule xz_file
{
    meta:
        plugin = "decompress"
        save = "True"
    strings:
        $magic = { fd 37 7a 58 5a 00 }
    condition:
        $magic at 0
}

rule sevenzip_file
{
    meta:
        plugin = "decompress"
        save = "True"
    strings:
        $magic = { 37 7a bc af 27 1c }
    condition:
        $magic at 0
}

rule cab_file
{
    meta:
        plugin = "decompress"
        save = "True"
    strings:
        $magic = { 4d 53 43 46 00 00 00 00 }
    condition:
        $magic at 0
}

rule rar_file
{
    meta:
        plugin = "decompress"
        save = "True"
    strings:
        // RAR 1.5-4.x ends in 00, RAR 5 in 01 00
        $magic = { 52 61 72 21 1a 07 ( 00 | 01 00 ) }
    condition:
        $magic at 0
}

rule iso9660_file
{
    meta:
        plugin = "decompress"
        save = "True"
    strings:
        $cd001 = "CD001"
    condition:
        $cd001 at 0x8001 or $cd001 at 0x8801 or $cd001 at 0x9001
}

rule tar_file
{
    meta:
        plugin = "decompress"
        save = "True"
    strings:
        // POSIX ustar ("ustar\0") and GNU tar ("ustar  \0")
        $ustar = { 75 73 74 61 72 ( 00 | 20 20 00 ) }
    condition:
        $ustar at 257
}

rule ar_file
{
    meta:
        plugin = "decompress"
        save = "True"
    strings:
        // Unix ar archives, Debian packages (first member "debian-binary") among them
        $magic = "!<arch>\n"
    condition:
        $magic at 0
}

rule ace_file
{
    meta:
        plugin = "decompress"
        save = "True"
    strings:
        // **ACE**
        $magic = { 2a 2a 41 43 45 2a 2a }
    condition:
        $magic at 7
}

rule base64_text
{
    meta:
        plugin = "b64decode"
        save = "True"
    condition:
        // at least 128 bytes that start with 64 base64 characters (a line of PEM or MIME base64
        // is 64 or 76), at least one of them not a hex digit (a hex digest is not base64 text)
        filesize >= 128 and
        for all i in (0..63) : (
            (uint8(i) >= 0x41 and uint8(i) <= 0x5a) or (uint8(i) >= 0x61 and uint8(i) <= 0x7a) or
            (uint8(i) >= 0x30 and uint8(i) <= 0x39) or uint8(i) == 0x2b or uint8(i) == 0x2f
        ) and
        for any i in (0..63) : (
            (uint8(i) >= 0x47 and uint8(i) <= 0x5a) or (uint8(i) >= 0x67 and uint8(i) <= 0x7a) or
            uint8(i) == 0x2b or uint8(i) == 0x2f
        )
}

rule xor_This_program
{
    meta:
        plugin = "xordecode"
        save = "True"
        // the dispatcher derives meta.xorkey (or meta.xor_info) from this plaintext
        xor_plaintext_for_string_this_prog = "This program"
    strings:
        $this_prog = "This program" xor(0x01-0xFF)
    condition:
        any of them
}
