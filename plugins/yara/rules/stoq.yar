/*
   Copyright 2014-2015 PUNCH Cyber Analytics Group
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

   The worker rules stoq ships. stoQ v3's rules/stoq.yar includes alienvault.yar and fireeye.yar;
   this file keeps fireeye.yar (verbatim) and, in place of the 70 APT1-era AlienVault rules, a few
   generic rules that say what a payload contains.
*/

include "./fireeye.yar"

rule pe_file
{
    meta:
        description = "Windows PE executable"
        executable = true
    strings:
        $mz = "MZ"
    condition:
        $mz at 0 and uint32(0x3c) < filesize and uint32(uint32(0x3c)) == 0x00004550
}

rule elf_file
{
    meta:
        description = "ELF executable or library"
        executable = true
    strings:
        $elf = { 7f 45 4c 46 }
    condition:
        $elf at 0
}

rule pdf_file
{
    meta:
        description = "PDF document"
        executable = false
    strings:
        $pdf = "%PDF-"
    condition:
        $pdf in (0..1024)
}

rule pdf_with_javascript
{
    meta:
        description = "PDF document with JavaScript or an open action"
    strings:
        $pdf = "%PDF-"
        $js1 = "/JavaScript"
        $js2 = "/JS"
        $open = "/OpenAction"
    condition:
        $pdf in (0..1024) and any of ($js*, $open)
}

rule ole_with_macros
{
    meta:
        description = "OLE2 document with a VBA project"
    strings:
        $ole = { d0 cf 11 e0 a1 b1 1a e1 }
        $vba1 = "_VBA_PROJECT" wide
        $vba2 = "VBAProject"
    condition:
        $ole at 0 and any of ($vba*)
}

rule embedded_pe : embedded
{
    meta:
        description = "A PE header past the start of the payload"
    strings:
        $mz = "MZ"
    condition:
        for any i in (1..#mz) : (
            @mz[i] > 0 and uint32(@mz[i] + 0x3c) < 0x1000 and
            uint32(@mz[i] + uint32(@mz[i] + 0x3c)) == 0x00004550
        )
}

rule base64_pe : encoded
{
    meta:
        description = "A base64-encoded PE"
    strings:
        $b64_mz = "TVqQAAMAAAAEAAAA"
        $b64_stub = "VGhpcyBwcm9ncmFtIGNhbm5vdCBiZSBydW4gaW4gRE9TIG1vZGU"
    condition:
        any of them
}

rule powershell_download
{
    meta:
        description = "PowerShell that downloads and runs code"
    strings:
        $ps = "powershell" nocase
        $dl1 = "DownloadString" nocase
        $dl2 = "DownloadFile" nocase
        $dl3 = "Invoke-WebRequest" nocase
        $iex = "IEX" fullword
    condition:
        $ps and any of ($dl*) or ($iex and any of ($dl*))
}
