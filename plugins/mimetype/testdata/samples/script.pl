#!/usr/bin/perl
use strict;
print "hi\n";
